// The bench's part of the page: progress lines while it runs, then the table of `tlc bench --model`.
import { $, el, formatBytes } from './dom.ts';
import type { ModelBenchResult } from './lib.ts';

/** Empties the bench's log and table, and gives the function that adds a progress line. */
export function startBenchLog(): (line: string) => void {
  const log = $('bench-log');
  log.textContent = '';
  log.hidden = false;
  $('bench-table').hidden = true;
  $('bench-json').textContent = '';
  $<HTMLDetailsElement>('model-details').open = true; // a bench someone asked for is worth seeing
  return (line) => {
    log.append(line + '\n');
    log.scrollTop = log.scrollHeight;
  };
}

export function showBench(r: ModelBenchResult): void {
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
  $('bench-json').textContent = JSON.stringify(r);
}
