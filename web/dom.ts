// Small DOM and formatting helpers the page's modules share. Plain DOM, no framework.

export const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K, props: Partial<Omit<HTMLElementTagNameMap[K], 'dataset'>> & { dataset?: Record<string, string> } = {},
): HTMLElementTagNameMap[K] {
  const { dataset, ...rest } = props;
  const e = Object.assign(document.createElement(tag), rest);
  Object.assign(e.dataset, dataset);
  return e;
}

/** <div><dt>name</dt><dd>value</dd></div>, one entry of a <dl>. */
export function term(name: string, value: unknown): HTMLDivElement {
  const d = el('div');
  d.append(el('dt', { textContent: name }), el('dd', { textContent: String(value) }));
  return d;
}

export function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

/** The number in an input; a TlcError-like message naming its label when it is not one. */
export function numberIn(id: string): number {
  const input = $<HTMLInputElement>(id);
  const v = Number(input.value);
  if (input.value.trim() === '' || !Number.isFinite(v)) throw new Error(`${input.labels?.[0]?.textContent?.trim() ?? id} must be a number, not "${input.value}".`);
  return v;
}
