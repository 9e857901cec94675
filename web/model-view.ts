// What the page shows of the adapter and the model: the adapter line, the load's progress bar, the
// hyperparameters, the models the server offers and those saved in this browser.
import { $, el, formatBytes, term } from './dom.ts';
import type { Gpu } from './lib.ts';
import type { ModelHeader } from './generate.ts';
import { listSaved, remove } from './model-cache.ts';

export function showAdapter(g: Gpu): void {
  $('adapter').textContent = g.info.adapter + (g.info.isFallbackAdapter ? ' (software)' : '');
  const features: [string, boolean][] = [['shader-f16', g.hasF16], ['subgroups', g.hasSubgroups], ['timestamp-query', g.hasTimestamps]];
  $('features').replaceChildren(...features.map(([name, on]) =>
    el('span', { className: `chip ${on ? 'on' : 'off'}`, title: on ? 'available' : 'not available', textContent: name, dataset: { feature: name, on: String(on) } })));
  $('limits').replaceChildren(...Object.entries(g.info.limits).map(([k, v]) => term(k, v)));
  $('limits-box').hidden = false;
}

/** The progress bar: `what` is the step (downloading, loading onto the GPU); none yet: opening. */
export function showProgress(what: string, done: number, total: number): void {
  const p = $<HTMLProgressElement>('progress');
  p.max = Math.max(total, 1);
  p.value = done;
  const percent = total > 0 ? Math.floor((100 * done) / total) : 100;
  $('progress-text').textContent = what ? `${what}: ${formatBytes(done)} of ${formatBytes(total)} (${percent}%)` : 'opening…';
}

export function showHeader({ file, hparams }: ModelHeader): void {
  const rows: [string, unknown][] = [
    ...Object.entries(hparams).filter(([, v]) => v !== undefined),
    ['tensors', file.tensors.length],
  ];
  // f32 values from the file print with float noise (1e-5 as 0.0000099999997): six digits are plenty.
  const show = (v: unknown) => (typeof v === 'number' && !Number.isInteger(v) ? Number(v.toPrecision(6)) : v);
  $('hparams').replaceChildren(...rows.map(([k, v]) => term(k, show(v))));
}

export async function offerServedModels(): Promise<void> {
  // `tlc serve-web --models DIR` lists its models at models/; any other host simply has none.
  const names = await fetch('models/').then((r) => (r.ok ? r.json() : []), () => []);
  if (!Array.isArray(names) || names.length === 0) return;
  $('served').append(...names.map((n: string) => el('option', { value: `models/${n}`, textContent: n })));
  $('served-box').hidden = false;
}

/** The models saved in this browser: `load` loads one (by what the user gave), and each can be removed. */
export async function showSaved(load: (ref: string) => void): Promise<void> {
  const saved = await listSaved().catch(() => []);
  const total = saved.reduce((n, m) => n + m.size, 0);
  $('saved-summary').textContent = `Saved in this browser: ${saved.length} model${saved.length === 1 ? '' : 's'}, ${formatBytes(total)}`;
  $('saved').replaceChildren(...saved.map((m) => {
    const li = el('li', { dataset: { ref: m.ref } });
    const open = el('button', { type: 'button', className: 'link', textContent: m.name, title: `Load ${m.ref}` });
    open.addEventListener('click', () => load(m.ref));
    const drop = el('button', { type: 'button', className: 'link remove', textContent: 'remove', title: 'Remove it from this browser' });
    drop.addEventListener('click', () => void remove(m.id).then(() => showSaved(load)));
    li.append(open, ` ${formatBytes(m.size)} `, drop);
    return li;
  }));
  $('saved-box').hidden = saved.length === 0;
}
