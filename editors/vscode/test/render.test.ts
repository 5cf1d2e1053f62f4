/** Unit tests: the incremental markdown renderer equals a full render, whatever the chunking. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
// @ts-expect-error -- plain JS module checked by media/jsconfig.json
import { IncrementalMarkdown, createMarkdown, isSafeLink, lastBlocks } from '../media/render.js';

const md = createMarkdown();

const SAMPLE = [
  '# Title\n\nSome *intro* text with `code` and a link https://example.com.\n\n',
  '- one\n- two\n  continued\n- three\n\n',
  '1. first\n\n2. second (loose)\n\n',
  '```python\ndef f(x):\n\n    return x * 2\n```\n\n',
  'Setext heading\n--------------\n\n',
  '| a | b |\n|---|---|\n| 1 | 2 |\n\n',
  '> quoted\n> more\n\nlazy para\nline two\n\n',
  '    indented code\n\n    more indented\n\nafter\n\n',
  '- a\n\n  b continues a\n\n  - nested\n    1. deep\n\n* star list\n\n+ plus list\n\n',
  'para\n- interrupting list\n\npara\n\n10) paren list\n11) next\n\n> quote\nlazy\n\n',
  '***\n\n~~~\nunclosed fence at the end\n',
].join('');

/** Streams `text` in chunks of `size`, rendering after every `every` chunks; returns frozen + live HTML. */
function stream(text: string, size: number, every: number, crlf = false, check = true) {
  const frozen: string[] = [];
  let live = '';
  const r = new IncrementalMarkdown(md, { freeze: (h: string) => frozen.push(h), live: (h: string) => (live = h) }, () => {});
  const src = crlf ? text.replace(/\n/g, '\r\n') : text;
  let n = 0;
  for (let i = 0; i < src.length; i += size) {
    r.append(src.slice(i, i + size));
    if (++n % every === 0) r.render();
    if (check && n % every === 0) {
      // In flight, frozen + live must equal a full render of what has arrived.
      assert.equal(frozen.join('') + live, md.render(r.text), `mid-stream mismatch after ${i + size} chars`);
    }
  }
  r.finish();
  return { html: frozen.join('') + live, r };
}

describe('IncrementalMarkdown', () => {
  for (const [size, every] of [[1, 1], [3, 2], [7, 1], [40, 3], [1000, 1]]) {
    it(`matches a full render (chunks of ${size}, render every ${every})`, () => {
      const { html, r } = stream(SAMPLE, size, every);
      assert.equal(html, md.render(SAMPLE));
      assert.equal(r.text, SAMPLE);
    });
  }
  it('normalizes CRLF even when split between deltas', () => {
    const { html } = stream(SAMPLE, 1, 1, true);
    assert.equal(html, md.render(SAMPLE));
  });
  it('keeps the open part small: work per frame does not grow with the answer', () => {
    const para = 'A paragraph with **bold**, `code` and words that go on for a while.\n\n';
    const text = para.repeat(2000); // ~140 KB
    const { r } = stream(text, 13, 5, false, false);
    assert.ok(r.stats.maxTail < 4 * para.length, `tail grew to ${r.stats.maxTail}`);
  });
  it('renders only after the scheduler fires, once per frame', () => {
    const frames: (() => void)[] = [];
    let lives = 0;
    const r = new IncrementalMarkdown(md, { freeze: () => {}, live: () => lives++ }, (cb: () => void) => frames.push(cb));
    for (let i = 0; i < 50; i++) r.append('word ');
    assert.equal(frames.length, 1);
    assert.equal(lives, 0);
    frames[0]();
    assert.equal(lives, 1);
  });
  it('finds the last top-level block', () => {
    assert.deepEqual(lastBlocks(md.parse('para\n\n- a\n- b\n', {})), { previous: [0, 0], last: [3, 2] });
    assert.deepEqual(lastBlocks(md.parse('```\nopen\n\nfence', {})), { previous: undefined, last: [0, 0] });
  });
});

describe('markdown safety', () => {
  it('escapes raw HTML and drops unsafe links', () => {
    const html = md.render('<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n' +
      '[click](javascript:alert(1)) [x](JaVaScRiPt:alert(1)) [d](data:text/html,<b>) [v](vbscript:x) ' +
      '[ok](https://example.com) ![img](https://evil.example/track.png) <javascript:alert(1)>');
    assert.ok(!html.includes('<script'), html);
    assert.ok(!/<img/i.test(html), html);
    assert.ok(!/href="(?!https:)/i.test(html), html);
    assert.ok(html.includes('&lt;script&gt;'));
    assert.ok(html.includes('<a href="https://example.com" rel="noopener noreferrer">ok</a>'), html);
    assert.ok(html.includes('[image: img]'), html);
  });
  it('accepts only http(s) and mailto links', () => {
    assert.ok(isSafeLink('https://a.b'));
    assert.ok(isSafeLink('mailto:x@y'));
    assert.ok(!isSafeLink('java\nscript:alert(1)'));
    assert.ok(!isSafeLink(' javascript:alert(1)'));
    assert.ok(!isSafeLink('file:///etc/passwd'));
    assert.ok(!isSafeLink('command:workbench.action.terminal.new'));
  });
  it('writes no style attributes (the CSP allows none): table alignment is a class', () => {
    const html = md.render('| l | c | r | n |\n|:--|:-:|--:|---|\n| 1 | 2 | 3 | 4 |\n');
    assert.ok(!/style=/i.test(html), html);
    assert.match(html, /<th class="align-left">l<\/th>/);
    assert.match(html, /<th class="align-center">c<\/th>/);
    assert.match(html, /<td class="align-right">3<\/td>/);
    assert.match(html, /<td>4<\/td>/);
    const { html: streamed } = stream('| a | b |\n|--:|:--|\n| 1 | 2 |\n\npara\n', 2, 1);
    assert.ok(!/style=/i.test(streamed), streamed);
    assert.match(streamed, /<td class="align-right">1<\/td>/);
  });
  it('highlights fenced code with Copy and Insert buttons', () => {
    const html = md.render('```ts\nconst x: number = 1;\n```\n');
    assert.match(html, /class="code-block"/);
    assert.match(html, /data-action="copy"/);
    assert.match(html, /data-action="insert"/);
    assert.match(html, /hljs-keyword/);
  });
});
