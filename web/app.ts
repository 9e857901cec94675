// The chat page: pick a GGUF model (file, drop, URL, hf: reference, or one the server offers), load it
// onto the GPU with a progress bar, then chat with it as tokens stream in. Plain DOM, no framework.
//
// The page compiles runtime/conversation.ts's program (examples/chat.tl on token ids) for the model. In
// chat mode a Conversation keeps the history (the model's chat template, the KV cache across turns, the
// oldest turns dropped when the context is full); in text mode the model continues what is written.
// Models from URLs are kept in the browser (web/model-cache.ts), so a reload does not download them.
//
// URL mode, for demos and tests: ?model=URL&prompt=TEXT&mode=chat|text&system=TEXT&ctx=N&max_tokens=N
// &temperature=T&seed=S&top_k=K&top_p=P&profile=1&keep=0&autorun=1 loads the model on open and, with
// autorun=1, sends the prompt; the outcome goes into the hidden #result as JSON (see describeResult) or
// {"error": "..."}, so a test never waits forever. ?bench=1 (with bench_prompt=N&bench_tokens=T)
// benchmarks the model once it has loaded; the result goes into #bench-json.
// <body data-state> tells where the page is: starting, no-webgpu, ready, loading, loaded, generating, benchmarking, error.
import { startBenchLog, showBench } from './bench-view.ts';
import { $, formatBytes, message, numberIn } from './dom.ts';
import { bench, chatTurn, continueText, limitProblems, loadModel, readModel, type LoadedModel, type ModelHeader, type Reply, type Sampling } from './generate.ts';
import { blobSource, Conversation, CONVERSATION_TL, formatProfile, openDevice, type Gpu, type RunIo } from './lib.ts';
import { clearSaved } from './model-cache.ts';
import { offerServedModels, showAdapter, showHeader, showProgress, showSaved as showSavedWith } from './model-view.ts';
import { openModelUrl, type OpenedModel } from './sources.ts';
import { Transcript } from './transcript.ts';

const query = new URLSearchParams(location.search);
const urlMode = query.has('model') || query.has('autorun') || query.has('bench');

let gpu: Gpu | undefined;
let model: LoadedModel | undefined;
let opened: OpenedModel | undefined;  // where the model came from (a context change loads it again from there)
let chat: Conversation | undefined;
let programText: string | undefined; // examples/chat.tl, copied beside the page by the build: what the bench runs
let busy = false;                     // loading, generating or benchmarking
let stopper: AbortController | undefined;
let lastText: string | undefined;     // text mode: what Regenerate continues again
let used = 0;                         // tokens the conversation holds (the context meter)
let modeChosen = query.has('mode');   // else each model picks: chat with a chat template, text without
let ctxChosen = query.has('ctx');     // else each model gets its own default context
const transcript = new Transcript();

// URL parameter -> the input that holds it.
const PARAMS = [
  ['max_tokens', 'max-tokens'], ['temperature', 'temperature'], ['top_k', 'top-k'], ['top_p', 'top-p'], ['seed', 'seed'],
  ['bench_prompt', 'bench-prompt'], ['bench_tokens', 'bench-tokens'], ['ctx', 'ctx'], ['system', 'system'], ['mode', 'mode'],
] as const;

type State = 'starting' | 'no-webgpu' | 'ready' | 'loading' | 'loaded' | 'generating' | 'benchmarking' | 'error';

function setState(state: State): void {
  document.body.dataset.state = state;
  const canLoad = Boolean(gpu) && !busy;
  for (const id of ['file', 'url', 'load', 'served', 'ctx', 'clear-cache']) $<HTMLInputElement>(id).disabled = !canLoad;
  const idle = Boolean(model) && !busy;
  $<HTMLButtonElement>('send').disabled = !idle;
  $<HTMLButtonElement>('bench').disabled = !idle;
  $<HTMLButtonElement>('regenerate').disabled = !idle || !transcript.hasReply;
  $<HTMLButtonElement>('clear').disabled = !idle;
  $<HTMLSelectElement>('mode').disabled = busy;
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
  const keep = query.get('keep') ?? localStorage.getItem('tlc.keep');
  if (keep !== null) $<HTMLInputElement>('keep').checked = keep !== '0';
  showMode();

  $('program-text').textContent = CONVERSATION_TL;
  programText = await fetch('chat.tl').then((r) => (r.ok ? r.text() : undefined), () => undefined);
  gpu = await startGpu();
  if (!gpu) return;
  setState('ready');
  void offerServedModels();
  void showSaved();

  if (urlMode) {
    const url = query.get('model');
    if (!url) return fail(new Error('autorun needs a model: add ?model=URL to the address.'));
    if (!(await load(openUrl(url)))) return;
    if (query.get('autorun') === '1') {
      $<HTMLTextAreaElement>('prompt').value = '';
      await send(query.get('prompt') ?? '');
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

// ---------------------------------------------------------------------------------------------
// Loading a model. The model in use stays until the new one is ready: a failed load keeps it.

type Opener = (onDownload: (done: number, total: number) => void) => Promise<OpenedModel>;

/** Loads the model `open` reaches; true when it is ready. `again` reloads the same model (another context), keeping the conversation. */
async function load(open: Opener, again = false): Promise<boolean> {
  if (!gpu || busy) return false;
  busy = true;
  hideError();
  setState('loading');
  $('progress-row').hidden = false;
  showProgress('', 0, 1);
  try {
    const from = await open((done, total) => showProgress('downloading', done, total));
    showProgress('reading', 0, from.source.size);
    const header = await readModel(from.source);
    const next = await loadModel(gpu, header, { ctx: ctxWanted(header), onProgress: (done, total) => showProgress('loading onto the GPU', done, total) });
    adopt(next, from, again);
    busy = false;
    setState('loaded');
    $('prompt').focus();
    return true;
  } catch (e) {
    busy = false;
    $<HTMLDetailsElement>('model-picker').open = true;
    if (model) $<HTMLInputElement>('ctx').value = String(model.program.ctx); // the context it still has
    fail(model ? new Error(`${message(e)} (${model.header.source.name} is still loaded.)`) : e);
    return false;
  } finally {
    $('progress-row').hidden = true;
    void showSaved();
  }
}

/** The context the user asked for (at most the model's), or undefined for the model's default. */
function ctxWanted(header: ModelHeader): number | undefined {
  const v = $<HTMLInputElement>('ctx').value.trim();
  if (!ctxChosen || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 16) throw new Error(`The context must be a whole number of tokens, at least 16, not "${v}".`);
  return Math.min(n, header.hparams.n_ctx_train);
}

/** The new model takes over: the model panel, the context, and a conversation on it. */
function adopt(next: LoadedModel, from: OpenedModel, again: boolean): void {
  const kept = again && chat ? chat.toJSON().messages : undefined;
  model?.release();
  model = next;
  opened = from;
  chat = new Conversation(next.program, { system: $<HTMLTextAreaElement>('system').value.trim(), messages: kept, notice: showNotice });
  if (!kept) {
    transcript.clear();
    lastText = undefined;
    used = 0;
    $('notice').hidden = true;
    if (!modeChosen) $<HTMLSelectElement>('mode').value = chat.hasTemplate ? 'chat' : 'text';
    showMode();
  }
  const { source } = next.header;
  $('model-name').textContent = `${source.name} (${formatBytes(source.size)})`;
  const where = { saved: 'Read from the copy saved in this browser (no download).', downloaded: 'Downloaded, and saved in this browser for next time.', server: 'Read from the server.', file: 'Read from the file.' }[from.from];
  $('load-info').textContent = `conversation.tl compiled for it in ${next.compileMs.toFixed(0)} ms; weights and shaders loaded in ${(next.loadMs / 1000).toFixed(2)} s. ${where}` +
    (from.note ? ` ${from.note}` : '') + (chat.hasTemplate ? '' : ' It has no chat template: chat mode writes a plain User:/Assistant: transcript.');
  showHeader(next.header);
  const ctx = $<HTMLInputElement>('ctx');
  ctx.value = String(next.program.ctx);
  ctx.max = String(next.header.hparams.n_ctx_train);
  showMeter();
  $<HTMLDetailsElement>('model-picker').open = false;
  $<HTMLTextAreaElement>('prompt').placeholder = 'Write a message (Enter sends, Shift+Enter is a new line)';
}

const keepModels = () => $<HTMLInputElement>('keep').checked;
const showSaved = () => showSavedWith((ref) => void load(openUrl(ref)));

/** A model URL, or an hf:OWNER/REPO/FILE.gguf reference (read from the hub, or from ?hf_endpoint=URL). */
const openUrl = (url: string): Opener => (onDownload) =>
  openModelUrl(url, { hfEndpoint: query.get('hf_endpoint') ?? undefined, keep: keepModels(), onDownload });

const openFile = (file: File): Opener => async () => ({ source: blobSource(file), from: 'file' });

// ---------------------------------------------------------------------------------------------
// Chatting

function showMode(): void {
  const text = $<HTMLSelectElement>('mode').value === 'text';
  $('system').hidden = text;
  $('chat').dataset.mode = text ? 'text' : 'chat';
}

/** Sends `text`, or with none answers the last message again (Regenerate, with the next seed). */
async function send(text?: string): Promise<void> {
  if (!model || !gpu || busy) return;
  const again = text === undefined;
  const textMode = $<HTMLSelectElement>('mode').value === 'text';
  let params: Sampling;
  try {
    if (again) $<HTMLInputElement>('seed').value = String(numberIn('seed') + 1);
    params = { max_tokens: numberIn('max-tokens'), temperature: numberIn('temperature'), top_k: numberIn('top-k'), top_p: numberIn('top-p'), seed: numberIn('seed') };
  } catch (e) {
    return fail(e);
  }
  hideError();
  $('notice').hidden = true;
  busy = true;
  stopper = new AbortController();
  setState('generating');
  if (!again) transcript.addUser(text);
  if (textMode) lastText = text ?? lastText;
  const reply = transcript.addReply({ echo: textMode ? lastText : undefined, again });
  $('speed').textContent = 'reading the prompt…';
  $('profile-table').hidden = true;
  const start = performance.now(), usedBefore = used;
  const io: RunIo = {
    write: (t) => reply.write(t),
    signal: stopper.signal,
    // A long prompt is read in chunks (runtime/executor.ts): say how far, and Stop works between them.
    onPrefill: (done, total) => {
      if (done < total) $('speed').textContent = `reading the prompt: ${done} of ${total} tokens…`;
    },
    onToken: (n, promptTokens) => {
      $('speed').textContent = `${n} tokens so far, ${(n / ((performance.now() - start) / 1000)).toFixed(1)} tok/s`;
      showMeter(promptTokens + n);
    },
  };
  try {
    if (chat) chat.system = $<HTMLTextAreaElement>('system').value.trim();
    const opts = { profile: $<HTMLInputElement>('profile').checked };
    const r = textMode
      ? await continueText(gpu, model.program, lastText!, params, io, opts)
      : await chatTurn(gpu, chat!, text, params, io, opts);
    reply.finish(r.finish);
    if (r.dropped_turns) transcript.markDropped(r.dropped_turns);
    // What the context holds now: the prompt and the reply (a text run's next run starts afresh).
    showMeter(r.prompt_tokens + r.tokens.length);
    $('speed').textContent = describeRun(r);
    if (r.profile) {
      $('profile-table').textContent = formatProfile(r.profile).trim();
      $('profile-table').hidden = false;
    }
    busy = false;
    setState('loaded');
    if (urlMode) writeResult(describeResult(r, textMode));
  } catch (e) {
    busy = false;
    reply.fail(message(e));
    showMeter(usedBefore); // the conversation is as it was
    fail(e, !again);
  }
}

function describeRun(r: Reply): string {
  const t = r.timings;
  const why = { eos: 'end of text', max_tokens: 'max tokens', stopped: 'stopped', end: 'program ended', context: 'context full', stop: 'end of turn' }[r.finish];
  const read = r.prompt_read < r.prompt_tokens ? ` (${r.prompt_tokens - r.prompt_read} already in the KV cache)` : '';
  return `${r.tokens.length} tokens (${why}): prompt ${r.prompt_tokens} tokens${read} at ${t.prefill_tok_s.toFixed(1)} tok/s, ` +
    `generation ${t.decode_tok_s.toFixed(1)} tok/s`;
}

/** What #result holds after a reply. */
function describeResult(r: Reply, textMode: boolean): object {
  return {
    mode: textMode ? 'text' : 'chat', prompt_tokens: r.prompt_tokens, prompt_read: r.prompt_read, tokens: r.tokens, text: r.reply,
    stopped_by: r.stopped_by, finish: r.finish, dropped_turns: r.dropped_turns, context: { used, size: model!.program.ctx },
    timings: r.timings, ...(r.profile ? { profile: r.profile } : {}),
  };
}

/** The context meter: tokens held of the context; with no argument, the last count. */
function showMeter(tokens = used): void {
  const size = model?.program.ctx ?? 0;
  used = Math.min(tokens, size); // a reply that filled the context sampled one token more than it holds
  const meter = $<HTMLMeterElement>('ctx-meter');
  meter.max = Math.max(size, 1);
  meter.value = Math.min(used, meter.max);
  meter.low = 0.75 * meter.max;
  meter.high = 0.9 * meter.max;
  $('ctx-used').textContent = String(used);
}

/** What the conversation says of itself (the oldest turns dropped), until the next message. */
function showNotice(text: string): void {
  $('notice').textContent = `${text[0].toUpperCase()}${text.slice(1)}${chat?.system ? '; the system prompt stays' : ''}.`;
  $('notice').hidden = false;
}

function clearChat(): void {
  chat?.reset();
  transcript.clear();
  lastText = undefined;
  $('notice').hidden = true;
  $('speed').textContent = '';
  showMeter(0);
  setState(document.body.dataset.state as State); // Regenerate has nothing to answer now
}

// ---------------------------------------------------------------------------------------------
// Benchmarking: decode speed beside the adapter's streaming-read roofline (runtime/bench-model.ts)

async function runBench(): Promise<void> {
  if (!model || !gpu || busy) return;
  const say = startBenchLog();
  busy = true;
  setState('benchmarking');
  try {
    const promptTokens = numberIn('bench-prompt'), tokens = numberIn('bench-tokens');
    const start = performance.now();
    const r = await bench(gpu, model.header, programText, { promptTokens, tokens, say });
    say(`done in ${((performance.now() - start) / 1000).toFixed(1)} s`);
    showBench(r);
    busy = false;
    setState('loaded');
  } catch (e) {
    busy = false;
    $('bench-json').textContent = JSON.stringify({ error: message(e) });
    say(`failed: ${message(e)}`);
    fail(e);
  }
}

// ---------------------------------------------------------------------------------------------
// Controls and errors

function wireControls(): void {
  $<HTMLInputElement>('file').addEventListener('change', (ev) => {
    const file = (ev.target as HTMLInputElement).files?.[0];
    if (file) void load(openFile(file));
  });
  $('url-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const url = $<HTMLInputElement>('url').value.trim();
    if (url) void load(openUrl(url));
  });
  $<HTMLSelectElement>('served').addEventListener('change', (ev) => {
    const url = (ev.target as HTMLSelectElement).value;
    if (url) void load(openUrl(url));
  });
  $<HTMLInputElement>('keep').addEventListener('change', (ev) => localStorage.setItem('tlc.keep', (ev.target as HTMLInputElement).checked ? '1' : '0'));
  $('clear-cache').addEventListener('click', () => void clearSaved().then(showSaved));

  // Drag and drop anywhere on the page; the drop zone lights up while a file hovers.
  const drop = $('drop');
  document.addEventListener('dragover', (ev) => { ev.preventDefault(); drop.classList.add('hover'); });
  document.addEventListener('dragleave', (ev) => { if (!ev.relatedTarget) drop.classList.remove('hover'); });
  document.addEventListener('drop', (ev) => {
    ev.preventDefault();
    drop.classList.remove('hover');
    const file = ev.dataTransfer?.files[0];
    if (file) void load(openFile(file));
  });

  const prompt = $<HTMLTextAreaElement>('prompt');
  $('prompt-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const text = prompt.value.trim();
    if (!text || !model || busy) return;
    prompt.value = '';
    void send(text);
  });
  prompt.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && !ev.shiftKey) { ev.preventDefault(); $<HTMLFormElement>('prompt-form').requestSubmit(); }
  });
  $('stop').addEventListener('click', () => stopper?.abort());
  $('regenerate').addEventListener('click', () => void send());
  $('clear').addEventListener('click', clearChat);
  $('bench').addEventListener('click', () => void runBench());
  $('mode').addEventListener('change', () => {
    modeChosen = true;
    showMode();
    clearChat(); // a text run and a conversation do not mix in one transcript
  });
  // Another context means loading the model again (the KV cache is sized by it); the conversation stays.
  $('ctx').addEventListener('change', () => {
    ctxChosen = true;
    const from = opened;
    if (model && from) void load(async () => from, true);
  });

  window.addEventListener('unhandledrejection', (ev) => fail(ev.reason));
  window.addEventListener('error', (ev) => fail(ev.error ?? ev.message));
}

/** Says what went wrong in the page's error line (`inline`: the failed reply already says it). Stale progress and status go. */
function fail(e: unknown, inline = false): void {
  const text = message(e);
  if (!inline) {
    $('error').textContent = text;
    $('error').hidden = false;
  }
  $('progress-row').hidden = true;
  $('speed').textContent = '';
  setState('error');
  if (urlMode) writeResult({ error: text });
}

function hideError(): void {
  $('error').hidden = true;
  $('error').textContent = '';
}

function writeResult(result: object): void {
  $('result').textContent = JSON.stringify(result); // for automation; stays hidden
}

void main().catch(fail);
