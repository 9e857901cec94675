// The chat page: pick a GGUF model (file, drop, URL, or one the server offers), load it onto the GPU
// with a progress bar, then chat with it as tokens stream in. Plain DOM, no framework.
//
// The page compiles examples/chat.tl (copied beside it as chat.tl) for the model and runs it, in the page.
//
// URL mode, for demos and tests: ?model=URL&prompt=TEXT&max_tokens=N&temperature=T&seed=S&top_k=K&top_p=P&profile=1&autorun=1
// loads the model on open and, with autorun=1, runs the prompt; the outcome goes into #result as JSON,
// {"tokens": [...], "text": "...", "timings": {...}, "profile"?: {...}} or {"error": "..."}, so a test never waits forever.
// ?bench=1 (with bench_prompt=N&bench_tokens=T) benchmarks the model once it has loaded; the result goes into #bench-json.
// <body data-state> tells where the page is: starting, no-webgpu, ready, loading, loaded, generating, benchmarking, error.
import { blobSource, formatProfile, openDevice, urlSource, type ByteSource, type Gpu, type ModelBenchResult } from './lib.ts';
import { bench, generate, limitProblems, loadModel, readModel, type Generation, type LoadedModel, type ModelHeader } from './generate.ts';
import { hubSource, isHubRef } from './hub.ts';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const query = new URLSearchParams(location.search);
const urlMode = query.has('model') || query.has('autorun') || query.has('bench');

let gpu: Gpu | undefined;
let model: LoadedModel | undefined;
let programText: string | undefined; // examples/chat.tl, copied beside the page by the build
let busy = false;                     // loading, generating or benchmarking
let stopper: AbortController | undefined;

// URL parameter -> the input that holds it.
const PARAMS = [
  ['max_tokens', 'max-tokens'], ['temperature', 'temperature'], ['top_k', 'top-k'], ['top_p', 'top-p'], ['seed', 'seed'],
  ['bench_prompt', 'bench-prompt'], ['bench_tokens', 'bench-tokens'],
] as const;

type State = 'starting' | 'no-webgpu' | 'ready' | 'loading' | 'loaded' | 'generating' | 'benchmarking' | 'error';

function setState(state: State): void {
  document.body.dataset.state = state;
  const canLoad = Boolean(gpu) && !busy;
  for (const id of ['file', 'url', 'load', 'served']) $<HTMLInputElement>(id).disabled = !canLoad;
  $<HTMLButtonElement>('send').disabled = !model || busy;
  $<HTMLButtonElement>('bench').disabled = !model || busy;
  $<HTMLButtonElement>('stop').disabled = state !== 'generating';
}

async function main(): Promise<void> {
  setState('starting');
  wireControls();
  for (const [param, id] of PARAMS) {
    if (query.has(param)) $<HTMLInputElement>(id).value = query.get(param)!;
  }
  if (query.has('prompt')) $<HTMLTextAreaElement>('prompt').value = query.get('prompt')!;
  if (query.get('profile') === '1') $<HTMLInputElement>('profile').checked = true;

  programText = await showProgram();
  gpu = await startGpu();
  if (!gpu) return;
  setState('ready');
  void offerServedModels();

  if (urlMode) {
    const url = query.get('model');
    if (!url) return fail(new Error('autorun needs a model: add ?model=URL to the address.'));
    if (!(await load(() => openUrl(url)))) return;
    if (query.get('autorun') === '1') {
      $<HTMLTextAreaElement>('prompt').value = '';
      await chat(query.get('prompt') ?? '');
    }
    if (query.get('bench') === '1') await runBench();
  }
}

// ---------------------------------------------------------------------------------------------
// WebGPU

async function startGpu(): Promise<Gpu | undefined> {
  if (!navigator.gpu) {
    const why = window.isSecureContext
      ? 'This browser has no WebGPU (navigator.gpu is missing). Use a recent Chrome, Edge or Chromium.'
      : 'WebGPU needs a secure context: open this page over https, or from localhost / 127.0.0.1.';
    return noWebGpu(why);
  }
  let g: Gpu;
  try {
    g = await openDevice(navigator.gpu);
  } catch (e) {
    return noWebGpu(message(e));
  }
  showAdapter(g);
  const problems = limitProblems(g.info);
  if (problems.length) {
    g.device.destroy();
    return noWebGpu(`The WebGPU adapter (${g.info.adapter}) is too limited for tlc: ${problems.join('; ')}.`);
  }
  return g;
}

function noWebGpu(text: string): undefined {
  $('no-webgpu-text').textContent = text;
  $('no-webgpu').hidden = false;
  $('adapter').textContent = 'No usable WebGPU adapter';
  setState('no-webgpu');
  if (urlMode) writeResult({ error: text });
  return undefined;
}

function showAdapter(g: Gpu): void {
  $('adapter').textContent = g.info.adapter + (g.info.isFallbackAdapter ? ' (software)' : '');
  const features: [string, boolean][] = [['shader-f16', g.hasF16], ['subgroups', g.hasSubgroups], ['timestamp-query', g.hasTimestamps]];
  $('features').replaceChildren(...features.map(([name, on]) =>
    el('span', { className: `chip ${on ? 'on' : 'off'}`, title: on ? 'available' : 'not available', textContent: name, dataset: { feature: name, on: String(on) } })));
  $('limits').replaceChildren(...Object.entries(g.info.limits).map(([k, v]) => term(k, v)));
  $('limits-box').hidden = false;
}

// ---------------------------------------------------------------------------------------------
// Loading a model

/** Loads the model that `open` reaches; true when it is ready to chat. */
async function load(open: () => Promise<ByteSource> | ByteSource): Promise<boolean> {
  if (!gpu || busy) return false;
  busy = true;
  model?.release();
  model = undefined;
  $('hparams').replaceChildren();
  $('load-info').textContent = '';
  $('error').hidden = true;
  setState('loading');
  try {
    const source = await open();
    $('model-name').textContent = `${source.name} (${formatBytes(source.size)})`;
    $('progress-row').hidden = false;
    showProgress(0, 1);
    const header = await readModel(source);
    showHeader(header);
    model = await loadModel(gpu, header, programText, showProgress);
    $('load-info').textContent = `chat.tl compiled for it in ${model.compileMs.toFixed(0)} ms; weights and shaders loaded in ${(model.loadMs / 1000).toFixed(2)} s.`;
    $<HTMLTextAreaElement>('prompt').placeholder = 'Write the start of a story, or a message (Enter sends, Shift+Enter is a new line)';
    busy = false;
    setState('loaded');
    $('prompt').focus();
    return true;
  } catch (e) {
    busy = false;
    fail(e);
    return false;
  }
}

/** A model URL, or an hf:OWNER/REPO/FILE.gguf reference (read from the hub, or from ?hf_endpoint=URL). */
const openUrl = (url: string) => (isHubRef(url) ? hubSource(url, query.get('hf_endpoint') ?? undefined) : urlSource(url));

function showProgress(done: number, total: number): void {
  const p = $<HTMLProgressElement>('progress');
  p.max = Math.max(total, 1);
  p.value = done;
  const percent = total > 0 ? Math.floor((100 * done) / total) : 100;
  $('progress-text').textContent = `${formatBytes(done)} of ${formatBytes(total)} (${percent}%)`;
}

function showHeader({ file, hparams }: ModelHeader): void {
  const rows: [string, unknown][] = [
    ...Object.entries(hparams).filter(([, v]) => v !== undefined),
    ['tensors', file.tensors.length],
  ];
  // f32 values from the file print with float noise (1e-5 as 0.0000099999997): six digits are plenty.
  const show = (v: unknown) => (typeof v === 'number' && !Number.isInteger(v) ? Number(v.toPrecision(6)) : v);
  $('hparams').replaceChildren(...rows.map(([k, v]) => term(k, show(v))));
}

async function offerServedModels(): Promise<void> {
  // `tlc serve-web --models DIR` lists its models at models/; any other host simply has none.
  const names = await fetch('models/').then((r) => (r.ok ? r.json() : []), () => []);
  if (!Array.isArray(names) || names.length === 0) return;
  $('served').append(...names.map((n: string) => el('option', { value: `models/${n}`, textContent: n })));
  $('served-box').hidden = false;
}

// ---------------------------------------------------------------------------------------------
// Chatting

async function chat(prompt: string): Promise<void> {
  if (!model || !gpu || busy) return;
  busy = true;
  stopper = new AbortController();
  setState('generating');
  addMessage('user', prompt);
  const reply = addMessage('assistant', '');
  $('speed').textContent = 'reading the prompt…';
  $('profile-table').hidden = true;
  const start = performance.now();
  let pieces = 0;
  const write = (text: string) => {
    // chat.tl writes the prompt first, so a story reads whole; it shows dimmed, as already said.
    if (pieces === 0 && reply.childNodes.length === 0 && text === prompt) {
      reply.append(el('span', { className: 'echo', textContent: text }));
      return;
    }
    reply.append(text);
    pieces++;
    const seconds = (performance.now() - start) / 1000;
    $('speed').textContent = `${pieces} tokens so far, ${(pieces / seconds).toFixed(1)} tok/s`;
    reply.scrollIntoView({ block: 'nearest' });
  };
  try {
    const params = {
      prompt, max_tokens: numberIn('max-tokens'), temperature: numberIn('temperature'),
      top_k: numberIn('top-k'), top_p: numberIn('top-p'), seed: numberIn('seed'),
    };
    // A long prompt is read in chunks (runtime/executor.ts): say how far, and Stop works between them.
    const onPrefill = (done: number, total: number) => {
      if (done < total) $('speed').textContent = `reading the prompt: ${done} of ${total} tokens…`;
    };
    const r = await generate(model, params, { write, signal: stopper.signal, onPrefill }, gpu, { profile: $<HTMLInputElement>('profile').checked });
    $('speed').textContent = describeRun(r);
    if (r.profile) {
      $('profile-table').textContent = formatProfile(r.profile).trim();
      $('profile-table').hidden = false;
    }
    busy = false;
    setState('loaded');
    if (urlMode) writeResult({ prompt_tokens: r.prompt_tokens, tokens: r.tokens, text: r.text, stopped_by: r.stopped_by, timings: r.timings, ...(r.profile ? { profile: r.profile } : {}) });
  } catch (e) {
    busy = false;
    fail(e, reply);
  }
}

function describeRun(r: Generation): string {
  const t = r.timings;
  const stopped = { eos: 'end of text', max_tokens: 'max tokens', stopped: 'stopped', end: 'program ended', context: 'context full' }[r.stopped_by];
  return `${r.tokens.length} tokens (${stopped}): prompt ${r.prompt_tokens} tokens at ${t.prefill_tok_s.toFixed(1)} tok/s, ` +
    `generation ${t.decode_tok_s.toFixed(1)} tok/s`;
}

// ---------------------------------------------------------------------------------------------
// Benchmarking: decode speed beside the adapter's streaming-read roofline (runtime/bench-model.ts)

async function runBench(): Promise<void> {
  if (!model || !gpu || busy) return;
  const log = $('bench-log');
  log.textContent = '';
  log.hidden = false;
  $('bench-table').hidden = true;
  $('bench-json').textContent = '';
  const say = (line: string) => {
    log.append(line + '\n');
    log.scrollTop = log.scrollHeight;
  };
  busy = true;
  setState('benchmarking');
  try {
    const promptTokens = numberIn('bench-prompt'), tokens = numberIn('bench-tokens');
    const start = performance.now();
    const r = await bench(gpu, model.header, programText, { promptTokens, tokens, say });
    say(`done in ${((performance.now() - start) / 1000).toFixed(1)} s`);
    showBench(r);
    $('bench-json').textContent = JSON.stringify(r);
    busy = false;
    setState('loaded');
  } catch (e) {
    busy = false;
    $('bench-json').textContent = JSON.stringify({ error: message(e) });
    say(`failed: ${message(e)}`);
    fail(e);
  }
}

function showBench(r: ModelBenchResult): void {
  const rows: [string, string][] = [
    ['prompt, decoded', `${r.prompt_tokens} tokens, ${r.tokens} tokens`],
    ['prefill', `${r.prefill_tok_s.toFixed(1)} tok/s`],
    ['decode', `${r.decode_tok_s.toFixed(1)} tok/s (${r.decode_ms_per_token.toFixed(2)} ms/token)`],
    ['weights per token', formatBytes(r.weight_bytes_per_token)],
    ['decode reads', `${r.decode_gb_s.toFixed(2)} GB/s`],
    ['roofline (streaming read)', `${r.roofline_gb_s.toFixed(2)} GB/s (${r.roofline_kernel})`],
    ['of roofline', `${r.roofline_pct.toFixed(1)}%`],
    ['prefill / decode', `${r.prefill_x_decode.toFixed(2)}×`],
  ];
  if (r.short) {
    rows.push(['flatness', `${r.short.long_over_short.toFixed(2)}× the ms/token after a ${r.short.prompt_tokens}-token prompt (${r.short.decode_ms_per_token.toFixed(2)} ms)`]);
  }
  const table = $('bench-table');
  table.replaceChildren(...rows.map(([k, v]) => {
    const tr = el('tr');
    tr.append(el('th', { textContent: k }), el('td', { textContent: v }));
    return tr;
  }));
  table.hidden = false;
}

function addMessage(who: 'user' | 'assistant', text: string): HTMLElement {
  const m = el('div', { className: `message ${who}`, textContent: text });
  $('transcript').append(m);
  return m;
}

// ---------------------------------------------------------------------------------------------
// Controls, program, errors

function wireControls(): void {
  $<HTMLInputElement>('file').addEventListener('change', (ev) => {
    const file = (ev.target as HTMLInputElement).files?.[0];
    if (file) void load(() => blobSource(file));
  });
  $('url-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const url = $<HTMLInputElement>('url').value.trim();
    if (url) void load(() => openUrl(url));
  });
  $<HTMLSelectElement>('served').addEventListener('change', (ev) => {
    const url = (ev.target as HTMLSelectElement).value;
    if (url) void load(() => openUrl(url));
  });

  // Drag and drop anywhere on the page; the drop zone lights up while a file hovers.
  const drop = $('drop');
  document.addEventListener('dragover', (ev) => { ev.preventDefault(); drop.classList.add('hover'); });
  document.addEventListener('dragleave', (ev) => { if (!ev.relatedTarget) drop.classList.remove('hover'); });
  document.addEventListener('drop', (ev) => {
    ev.preventDefault();
    drop.classList.remove('hover');
    const file = ev.dataTransfer?.files[0];
    if (file) void load(() => blobSource(file));
  });

  const prompt = $<HTMLTextAreaElement>('prompt');
  $('prompt-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const text = prompt.value.trim();
    if (!text) return;
    prompt.value = '';
    void chat(text);
  });
  prompt.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && !ev.shiftKey) { ev.preventDefault(); $<HTMLFormElement>('prompt-form').requestSubmit(); }
  });
  $('stop').addEventListener('click', () => stopper?.abort());
  $('bench').addEventListener('click', () => void runBench());

  window.addEventListener('unhandledrejection', (ev) => fail(ev.reason));
  window.addEventListener('error', (ev) => fail(ev.error ?? ev.message));
}

async function showProgram(): Promise<string | undefined> {
  const r = await fetch('chat.tl').catch(() => undefined);
  const text = r?.ok ? await r.text() : undefined;
  $('program-text').textContent = text ??
    'examples/chat.tl was not there when this page was built, so there is no program to show or run yet.';
  return text;
}

/** Shows what went wrong: under a failed reply (after what it streamed), or in the page's error line. */
function fail(e: unknown, reply?: HTMLElement): void {
  const text = message(e);
  if (reply) {
    reply.classList.add('failed');
    reply.append(el('div', { className: 'failure', textContent: text }));
  } else {
    $('error').textContent = text;
    $('error').hidden = false;
  }
  setState('error');
  if (urlMode) writeResult({ error: text });
}

function writeResult(result: object): void {
  const r = $('result');
  r.textContent = JSON.stringify(result);
  r.hidden = false;
}

// ---------------------------------------------------------------------------------------------
// Small helpers

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function numberIn(id: string): number {
  const input = $<HTMLInputElement>(id);
  const v = Number(input.value);
  if (input.value.trim() === '' || !Number.isFinite(v)) throw new Error(`${input.labels?.[0]?.textContent?.trim() ?? id} must be a number, not "${input.value}".`);
  return v;
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

/** <div><dt>name</dt><dd>value</dd></div>, one entry of a <dl>. */
function term(name: string, value: unknown): HTMLDivElement {
  const d = el('div');
  d.append(el('dt', { textContent: name }), el('dd', { textContent: String(value) }));
  return d;
}

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K, props: Partial<Omit<HTMLElementTagNameMap[K], 'dataset'>> & { dataset?: Record<string, string> } = {},
): HTMLElementTagNameMap[K] {
  const { dataset, ...rest } = props;
  const e = Object.assign(document.createElement(tag), rest);
  Object.assign(e.dataset, dataset);
  return e;
}

void main().catch(fail);
