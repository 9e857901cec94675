// Text out of tokens as they are generated. Each push() decodes everything so far and returns what is
// new, holding back what a later token may still change: a partial UTF-8 character (decoded as
// U+FFFD until its last byte arrives) and a space among the last few characters, which a clean-up of
// spaces may still drop (" ," becomes "," and " 're" becomes "'re").
import type { DecodeOptions, Tokenizer } from './types.ts';

export class TokenStream {
  private readonly ids: number[] = [];
  private shown = '';

  constructor(private readonly tokenizer: Tokenizer, private readonly opts: DecodeOptions = {}) {}

  /** The text that token `id` completes (often '' or one word). */
  push(id: number): string {
    this.ids.push(id);
    const text = this.tokenizer.decode(this.ids, this.opts);
    let end = text.length;
    while (end > 0 && text[end - 1] === '\uFFFD') end--;
    const space = text.lastIndexOf(' ', end - 1);
    if (space >= 0 && space >= end - 3) end = space;
    return this.show(text.slice(0, end));
  }

  /** The rest, once generation has ended. */
  flush(): string {
    return this.show(this.tokenizer.decode(this.ids, this.opts));
  }

  private show(text: string): string {
    // Text already shown is never taken back.
    if (text.length <= this.shown.length) return '';
    const added = text.slice(this.shown.length);
    this.shown = text;
    return added;
  }
}
