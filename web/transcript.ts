// The chat's transcript: messages as they stream in, and under each reply why it ended (a stop marker
// on a stopped reply) and a Copy button. Turns the conversation dropped to fit the context stay in
// view, greyed, so the user sees what the model no longer reads.
import { $, el } from './dom.ts';

/** Why a reply ended, as its marker says; other endings (end of text, end of turn) need no marker. */
const MARKERS: Record<string, string> = { stopped: '■ stopped', context: 'context full', max_tokens: 'cut at max tokens' };

interface Turn {
  user: HTMLElement;
  reply: HTMLElement;
  meta: HTMLElement;
}

export interface ReplyView {
  write(text: string): void;
  /** The reply is done: its marker and Copy button; a reply it replaces goes. */
  finish(finish: string): void;
  /** It failed: the message under it (a regenerated reply gives its place back to the one it replaced). */
  fail(text: string): void;
}

export class Transcript {
  private readonly box = $('transcript');
  /** Turns of the conversation, oldest first; the first `dropped` no longer fit the context. */
  private turns: Turn[] = [];
  private dropped = 0;
  private pendingUser?: HTMLElement;

  clear(): void {
    this.box.replaceChildren();
    this.turns = [];
    this.dropped = 0;
    this.pendingUser = undefined;
  }

  get hasReply(): boolean {
    return this.turns.length > 0;
  }

  addUser(text: string): void {
    this.pendingUser = el('div', { className: 'message user', textContent: text });
    this.box.append(this.pendingUser);
  }

  /**
   * A reply streaming in. `echo` (text mode) shows the prompt dimmed at its start, else the reply shows
   * from its first visible character (a transcript's reply starts with a space); `again` answers the
   * last message again, in place of the last reply once it is done.
   */
  addReply(opts: { echo?: string; again?: boolean } = {}): ReplyView {
    const old = opts.again ? this.turns.at(-1) : undefined;
    const user = old?.user ?? this.pendingUser!;
    this.pendingUser = undefined;
    if (old) old.reply.hidden = old.meta.hidden = true;
    const reply = el('div', { className: 'message assistant' });
    if (opts.echo) reply.append(el('span', { className: 'echo', textContent: opts.echo }));
    const meta = el('div', { className: 'reply-meta' });
    if (old) old.meta.after(reply, meta);
    else this.box.append(reply, meta);
    let started = Boolean(opts.echo);
    return {
      write: (text) => {
        if (!started) text = text.replace(/^\s+/, '');
        if (!text) return;
        started = true;
        reply.append(text);
        reply.scrollIntoView({ block: 'nearest' });
      },
      finish: (finish) => {
        if (old) {
          old.reply.remove();
          old.meta.remove();
          this.turns.pop();
        }
        this.turns.push({ user, reply, meta });
        if (MARKERS[finish]) meta.append(el('span', { className: `marker ${finish}`, textContent: MARKERS[finish] }));
        meta.append(copyButton(reply));
      },
      fail: (text) => {
        if (old) {
          reply.remove();
          meta.remove();
          old.reply.hidden = old.meta.hidden = false;
          return;
        }
        reply.classList.add('failed');
        reply.append(el('div', { className: 'failure', textContent: text }));
      },
    };
  }

  /** The conversation dropped its `n` oldest turns to fit the context: grey them. */
  markDropped(n: number): void {
    for (const t of this.turns.slice(this.dropped, this.dropped + n)) {
      for (const e of [t.user, t.reply]) {
        e.classList.add('dropped');
        e.title = 'No longer in the context: the model does not read this turn any more.';
      }
    }
    this.dropped = Math.min(this.turns.length, this.dropped + n);
  }
}

function copyButton(reply: HTMLElement): HTMLButtonElement {
  const b = el('button', { type: 'button', className: 'copy link', textContent: 'Copy', title: 'Copy the reply' });
  b.addEventListener('click', () => {
    navigator.clipboard.writeText(reply.textContent ?? '').then(
      () => (b.textContent = 'Copied'),
      (e: Error) => ((b.textContent = 'Copy failed'), (b.title = e.message)),
    ).finally(() => setTimeout(() => (b.textContent = 'Copy'), 1500));
  });
  return b;
}
