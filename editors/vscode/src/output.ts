/**
 * A running command's output as the panel shows it (`toolOutput` events, then the `toolResult`):
 * ANSI escape sequences removed, also when one is split between two events; carriage returns that
 * redraw a line (progress bars) shown as the line's last state; only the last OUTPUT_LIMIT
 * characters kept, so a command that prints megabytes keeps the panel fast; and the exit code read
 * from the result's last line.
 *
 * No `vscode` import and no DOM: the unit tests run this under plain Node, the webview bundles it.
 */

/** How much of a command's output the panel keeps (characters, about 200 KB). */
export const OUTPUT_LIMIT = 200_000;
/** When the output grows past the limit, it is cut down to this share of it, so cuts are rare. */
const CUT_TO = 0.9;
/** A cut moves on to the next line start when one is this near, so the first line shown is whole. */
const LINE_SLACK = 2_000;
/** An unfinished escape sequence longer than this is not one: it is let through (and stripped). */
const MAX_HELD = 4_096;

// Complete escape sequences: CSI (colours, cursor moves), OSC (titles, hyperlinks) ended by BEL or
// ST, DCS/SOS/PM/APC strings ended by ST, the other ESC sequences, and the one-byte C1 CSI.
// eslint-disable-next-line no-control-regex -- escape sequences are control characters
const ESCAPE = /\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[PX^_][^\x1b]*\x1b\\|[ -/]*[0-~])|\x9b[0-?]*[ -/]*[@-~]/g;
// The start of a sequence that the next event may finish, at the very end of the text.
// eslint-disable-next-line no-control-regex -- escape sequences are control characters
const UNFINISHED = /(?:\x1b(?:\[[0-?]*[ -/]*|\][^\x07\x1b]*\x1b?|[PX^_][^\x1b]*\x1b?|[ -/]*)|\x9b[0-?]*[ -/]*)$/;
// Control characters other than tab and line feed (a bell, a backspace, a stray ESC).
// eslint-disable-next-line no-control-regex -- that is the point
const CONTROLS = /[\x00-\x08\x0b-\x1f\x7f]/g;

/** `text` without ANSI escape sequences and control characters (one complete piece of output). */
export function stripAnsi(text: string): string {
  return redraws(text.replace(ESCAPE, '').replace(/\r\n/g, '\n'), true).replace(CONTROLS, '');
}

/**
 * `text` (line feeds only, no CR LF) with each line redrawn by a carriage return shown as its last
 * state: `50%\r60%\r70%` is `70%`. A line that began before `text` (`atLineStart` false) was shown
 * already and cannot be redrawn: what follows its carriage return goes on a new line.
 */
function redraws(text: string, atLineStart: boolean): string {
  if (text.indexOf('\r') < 0) return text;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const cr = line.lastIndexOf('\r');
    if (cr < 0) continue;
    lines[i] = (i === 0 && !atLineStart ? '\n' : '') + line.slice(cr + 1);
  }
  return lines.join('\n');
}

/**
 * Strips a stream of output pieces: an escape sequence or a CR LF cut in two by the pieces is held
 * back until the next piece completes it.
 */
export class AnsiStripper {
  private held = '';
  private atLineStart = true;

  /** The printable text of `piece`, given the pieces before it. */
  push(piece: string): string {
    let text = this.held + piece;
    this.held = '';
    const unfinished = UNFINISHED.exec(text);
    if (unfinished && text.length - unfinished.index <= MAX_HELD) {
      this.held = text.slice(unfinished.index);
      text = text.slice(0, unfinished.index);
    } else if (text.endsWith('\r')) {
      this.held = '\r'; // perhaps the first half of a CR LF
      text = text.slice(0, -1);
    }
    text = text.replace(ESCAPE, '').replace(/\r\n/g, '\n');
    const out = redraws(text, this.atLineStart).replace(CONTROLS, '');
    if (out) this.atLineStart = out.endsWith('\n');
    return out;
  }
}

/**
 * What a view showing an OutputTail's pieces (one node per piece) does after a push, once it has
 * added the new piece at its end.
 */
export interface TailChange {
  /** remove this many pieces from the front (never the last one) */
  drop: number;
  /** then, when set, the text of the first piece left */
  first?: string;
}

/**
 * The last `limit` characters of a command's output, kept as the pieces they arrived in, so a view
 * can mirror them (a text node each) and cut its front as this does.
 */
export class OutputTail {
  private pieces: string[] = [];
  private size = 0;
  /** characters left out at the front so far */
  cut = 0;

  constructor(readonly limit: number = OUTPUT_LIMIT) {}

  /** The text kept. */
  get text(): string {
    return this.pieces.join('');
  }

  /** Adds `piece` (not empty); cuts the front when the text grows past the limit. */
  push(piece: string): TailChange {
    this.pieces.push(piece);
    this.size += piece.length;
    if (this.size <= this.limit) return { drop: 0 };
    let excess = this.size - Math.floor(this.limit * CUT_TO);
    let drop = 0;
    while (excess >= this.pieces[drop].length) {
      excess -= this.pieces[drop].length;
      drop++;
    }
    const removed = this.pieces.splice(0, drop);
    const gone = removed.reduce((n, p) => n + p.length, 0);
    this.size -= gone;
    this.cut += gone;
    if (excess === 0) return { drop };
    const head = this.pieces[0];
    const nl = head.indexOf('\n', excess - 1);
    // (never the whole of the last piece: the newest output always shows)
    const lineStart = nl >= 0 && nl + 1 - excess <= LINE_SLACK && (nl + 1 < head.length || this.pieces.length > 1);
    const at = lineStart ? nl + 1 : excess;
    if (at >= head.length) {
      // The piece ends with the line break: it goes whole.
      this.pieces.shift();
      this.size -= head.length;
      this.cut += head.length;
      return { drop: drop + 1 };
    }
    const first = head.slice(at);
    this.pieces[0] = first;
    this.size -= at;
    this.cut += at;
    return { drop, first };
  }
}

/** How a command ended, from the last line of its `run_command` result. */
export interface CommandEnd {
  /** what the card's status shows: `exit code 1`, `stopped` */
  label: string;
  /** the whole line without its brackets: `exit code 1`, `stopped: still running after 5 s (the time limit)` */
  detail: string;
  /** exit code 0 */
  success: boolean;
}

/** The end of a `run_command` result (`[exit code N]` or `[stopped: …]` on its last line), if it has one. */
export function commandEnd(output: string): CommandEnd | undefined {
  const last = output.trimEnd().split('\n').pop()?.trim() ?? '';
  const exit = /^\[exit code (-?\d+)\]$/.exec(last);
  if (exit) {
    const detail = `exit code ${Number(exit[1])}`;
    return { label: detail, detail, success: Number(exit[1]) === 0 };
  }
  const stopped = /^\[(stopped: .+)\]$/.exec(last);
  if (stopped) return { label: 'stopped', detail: stopped[1], success: false };
  return undefined;
}

/** "1.3 MB" for the note that says how much earlier output was cut. */
export function sizeText(chars: number): string {
  if (chars < 1000) return `${chars} characters`;
  if (chars < 1_000_000) return `${Math.round(chars / 1000)} KB`;
  return `${(chars / 1_000_000).toFixed(1)} MB`;
}
