// @ts-check
/**
 * Markdown for the chat panel: a locked-down markdown-it, and an incremental renderer for streamed
 * answers.
 *
 * Incremental rendering: the text that has not been frozen yet (the "tail") is parsed into
 * top-level blocks. Every block but the last is complete (a later block has started, so nothing
 * that arrives can change it): those are rendered once, appended to the frozen part and never
 * touched again. Only the last, open block is re-rendered, at most once per animation frame. The
 * work per frame is proportional to the open block and the text that arrived since the last
 * frame, never to the whole answer.
 *
 * Safety: raw HTML is off (markdown-it escapes it), links are limited to http(s) and mailto,
 * images are shown as links (no remote loads: an image URL is a way to leak data), and the
 * panel's CSP forbids any script without its nonce.
 */

import MarkdownIt from 'markdown-it';
import hljs from 'highlight.js/lib/common';

const SAFE_LINK = /^(https?:|mailto:)/i;

/** True for the links the panel may show as links. */
export function isSafeLink(/** @type {string} */ url) {
  const u = url.trim();
  // Browsers ignore tabs/newlines and leading control characters in schemes ("java\nscript:").
  const squashed = u.replace(/[\u0000-\u0020\u007f-\u009f]/g, '');
  return SAFE_LINK.test(squashed) && SAFE_LINK.test(u);
}

/** @param {string} code @param {string} lang */
function highlight(code, lang) {
  const name = (lang || '').trim().split(/\s+/)[0].toLowerCase();
  if (name && hljs.getLanguage(name)) {
    try {
      return hljs.highlight(code, { language: name, ignoreIllegals: true }).value;
    } catch {
      // fall through: markdown-it escapes the plain text
    }
  }
  return '';
}

/** The panel's markdown-it: html off, linkify on, highlighted code blocks with Copy/Insert. */
export function createMarkdown() {
  const md = new MarkdownIt({ html: false, linkify: true, typographer: false, highlight });
  md.validateLink = isSafeLink;
  const esc = md.utils.escapeHtml;

  const fence = md.renderer.rules.fence;
  md.renderer.rules.fence = (tokens, idx, options, env, self) => {
    const info = tokens[idx].info ? md.utils.unescapeAll(tokens[idx].info).trim() : '';
    const lang = info.split(/\s+/g)[0];
    const inner = fence ? fence(tokens, idx, options, env, self) : self.renderToken(tokens, idx, options);
    return (
      '<div class="code-block"><div class="code-bar">' +
      `<span class="code-lang">${esc(lang)}</span>` +
      '<button type="button" class="code-action" data-action="copy" title="Copy to clipboard">Copy</button>' +
      '<button type="button" class="code-action" data-action="insert" title="Insert at the cursor in the editor">Insert</button>' +
      `</div>${inner}</div>`
    );
  };

  // Images become links: the panel never loads a URL the model chose.
  md.renderer.rules.image = (tokens, idx) => {
    const token = tokens[idx];
    const src = token.attrGet('src') || '';
    const alt = token.children ? md.renderer.renderInlineAsText(token.children, md.options, {}) : token.content;
    const label = `[image${alt ? `: ${esc(alt)}` : ''}]`;
    return isSafeLink(src) ? `<a href="${esc(src)}" class="image-link">${label}</a>` : label;
  };

  // Links open through the extension (the panel intercepts clicks); mark them for styling.
  const linkOpen = md.renderer.rules.link_open;
  md.renderer.rules.link_open = (tokens, idx, options, env, self) => {
    tokens[idx].attrSet('rel', 'noopener noreferrer');
    return linkOpen ? linkOpen(tokens, idx, options, env, self) : self.renderToken(tokens, idx, options);
  };

  // Table column alignment as classes (chat.css): markdown-it writes it as a style attribute,
  // which the panel's CSP (no 'unsafe-inline' in style-src) would drop.
  md.core.ruler.push('align_classes', (state) => {
    for (const token of state.tokens) {
      if (token.type !== 'th_open' && token.type !== 'td_open') continue;
      const style = token.attrGet('style');
      if (style === null) continue;
      token.attrs = (token.attrs || []).filter(([name]) => name !== 'style');
      const align = /^text-align:(left|center|right)$/.exec(style);
      if (align) token.attrJoin('class', `align-${align[1]}`);
    }
  });
  return md;
}

/**
 * Where the top-level blocks of parsed `tokens` start: `[tokenIndex, line]` pairs of the last two.
 * @param {import('markdown-it').Token[]} tokens
 * @returns {{last: [number, number] | undefined, previous: [number, number] | undefined}}
 */
export function lastBlocks(tokens) {
  /** @type {[number, number] | undefined} */
  let last;
  /** @type {[number, number] | undefined} */
  let previous;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t.level === 0 && t.nesting !== -1 && t.map) {
      previous = last;
      last = [i, t.map[0]];
    }
  }
  return { last, previous };
}

/** Offset of the start of `line` (0-based) in `text`. */
function lineOffset(/** @type {string} */ text, /** @type {number} */ line) {
  let pos = 0;
  for (let i = 0; i < line; i++) {
    const nl = text.indexOf('\n', pos);
    if (nl < 0) return text.length;
    pos = nl + 1;
  }
  return pos;
}

/**
 * @typedef {object} Sink where the renderer writes HTML
 * @property {(html: string) => void} freeze append finished blocks (called once per block batch)
 * @property {(html: string) => void} live replace the open block's HTML
 */

/**
 * Streams markdown into a Sink.
 */
export class IncrementalMarkdown {
  /**
   * @param {MarkdownIt} md
   * @param {Sink} sink
   * @param {(cb: () => void) => void} [schedule] when to render (default: next animation frame)
   */
  constructor(md, sink, schedule) {
    this.md = md;
    this.sink = sink;
    this.schedule = schedule || ((cb) => requestAnimationFrame(() => cb()));
    /** @type {string[]} text that arrived since the last render */
    this.pending = [];
    /** source of the blocks not frozen yet */
    this.tail = '';
    /** @type {string[]} source of the frozen blocks, for `text` */
    this.frozenParts = [];
    this.scheduled = false;
    this.pendingCR = false;
    this.finished = false;
    /** statistics for tests and the benchmark */
    this.stats = { renders: 0, renderMs: 0, maxTail: 0, deltas: 0 };
  }

  /** Adds a delta; the render happens on the next frame. */
  append(/** @type {string} */ delta) {
    if (!delta || this.finished) return;
    this.stats.deltas++;
    // markdown-it normalizes CRLF; do it here so line numbers match, minding a CR split from its LF.
    if (this.pendingCR) {
      this.pendingCR = false;
      if (delta[0] === '\n') delta = delta.slice(1);
    }
    if (delta.endsWith('\r')) this.pendingCR = true;
    if (delta.indexOf('\r') >= 0) delta = delta.replace(/\r\n?/g, '\n');
    this.pending.push(delta);
    if (!this.scheduled) {
      this.scheduled = true;
      this.schedule(() => {
        if (this.scheduled) this.render();
      });
    }
  }

  /** The whole source received so far. */
  get text() {
    return this.frozenParts.join('') + this.tail + this.pending.join('');
  }

  /** Renders what has arrived now (normally called by the scheduler). */
  render() {
    this.scheduled = false;
    if (this.pending.length) {
      this.tail += this.pending.length === 1 ? this.pending[0] : this.pending.join('');
      this.pending = [];
    }
    const t0 = performance.now();
    const env = {};
    const tokens = this.md.parse(this.tail, env);
    // Everything before the last block is complete, provided the last block's first line is:
    // until then its kind can still change ("2" becoming "2." continues the list above it, "-"
    // may be a setext underline), so the block before it stays open too.
    const { last, previous } = lastBlocks(tokens);
    let index = 0;
    let cut = 0;
    if (last && last[0] > 0) {
      const at = lineOffset(this.tail, last[1]);
      if (this.tail.indexOf('\n', at) >= 0) {
        index = last[0];
        cut = at;
      } else if (previous && previous[0] > 0) {
        index = previous[0];
        cut = lineOffset(this.tail, previous[1]);
      }
    }
    if (index > 0) {
      this.sink.freeze(this.md.renderer.render(tokens.slice(0, index), this.md.options, env));
      this.frozenParts.push(this.tail.slice(0, cut));
      this.tail = this.tail.slice(cut);
      this.sink.live(this.md.renderer.render(tokens.slice(index), this.md.options, env));
    } else {
      this.sink.live(this.md.renderer.render(tokens, this.md.options, env));
    }
    if (this.tail.length > this.stats.maxTail) this.stats.maxTail = this.tail.length;
    this.stats.renders++;
    this.stats.renderMs += performance.now() - t0;
  }

  /** Renders the rest and freezes it: the answer is complete. */
  finish() {
    if (this.finished) return;
    this.render();
    this.finished = true;
    if (this.tail) {
      this.sink.freeze(this.md.render(this.tail));
      this.frozenParts.push(this.tail);
      this.tail = '';
    }
    this.sink.live('');
  }
}

/**
 * A Sink writing into two DOM elements: `frozen` only grows, `live` is replaced each frame.
 *
 * Frozen blocks go into pages of at most `pageSize` blocks. A full page is sealed: it gets
 * `content-visibility: auto` (see chat.css), so the browser skips its layout while it is off
 * screen, and no container ever has more than `pageSize` children to lay out. Without this, the
 * layout after each frame grows with the answer even though the script's work does not.
 * @param {HTMLElement} frozen
 * @param {HTMLElement} live
 * @param {number} [pageSize]
 * @returns {Sink}
 */
export function domSink(frozen, live, pageSize = 24) {
  /** @type {HTMLElement | undefined} */
  let page;
  return {
    freeze: (html) => {
      if (!page || page.childElementCount >= pageSize) {
        if (page) page.classList.add('sealed');
        page = document.createElement('div');
        page.className = 'md-page';
        frozen.append(page);
      }
      page.insertAdjacentHTML('beforeend', html);
    },
    live: (html) => {
      live.innerHTML = html;
    },
  };
}
