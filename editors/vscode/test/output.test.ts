/** Unit tests: a command's live output as the panel keeps it (escape sequences, the cap, the exit code). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AnsiStripper, OUTPUT_LIMIT, OutputTail, commandEnd, sizeText, stripAnsi } from '../src/output';

const ESC = '\x1b';
const COLOURED = `${ESC}[1m${ESC}[32m===${ESC}[0m 3 passed in 0.02s ${ESC}[32m===${ESC}[0m\n`;

/** Feeds `text` to a stripper in pieces of `size` characters; returns what it let through. */
function streamed(text: string, size: number): string {
  const s = new AnsiStripper();
  let out = '';
  for (let i = 0; i < text.length; i += size) out += s.push(text.slice(i, i + size));
  return out;
}

describe('stripAnsi', () => {
  it('removes colours, cursor moves, titles, hyperlinks and stray control characters', () => {
    assert.equal(stripAnsi(COLOURED), '=== 3 passed in 0.02s ===\n');
    assert.equal(stripAnsi(`${ESC}[2K${ESC}[1G${ESC}[?25lok${ESC}[?25h\n`), 'ok\n');
    assert.equal(stripAnsi(`${ESC}]0;my title\x07done`), 'done');
    assert.equal(stripAnsi(`${ESC}]8;;https://example.com${ESC}\\link${ESC}]8;;${ESC}\\`), 'link');
    assert.equal(stripAnsi(`a${ESC}(Bb${ESC}=c\x07\x08d\x9b31me`), 'abcde');
    assert.equal(stripAnsi('tab\tkept\nand lines\n'), 'tab\tkept\nand lines\n');
  });

  it('keeps markup-looking text as it is (the panel shows it as text)', () => {
    assert.equal(stripAnsi('<img src=x onerror=alert(1)> &amp; [bold]x[/bold]\n'), '<img src=x onerror=alert(1)> &amp; [bold]x[/bold]\n');
  });

  it('shows a line redrawn with carriage returns as its last state, and CR LF as a line break', () => {
    assert.equal(stripAnsi('10%\r50%\r100%\ndone\r\n'), '100%\ndone\n');
  });
});

describe('AnsiStripper', () => {
  it('gives the same text whatever the pieces, also when they cut a sequence in two', () => {
    const text = `${COLOURED}${ESC}]0;title\x07line 2\r\n${ESC}]8;;http://x${ESC}\\x${ESC}]8;;${ESC}\\\n${ESC}[38;5;196mred${ESC}[0m\n`;
    const whole = stripAnsi(text);
    assert.equal(whole, '=== 3 passed in 0.02s ===\nline 2\nx\nred\n');
    for (const size of [1, 2, 3, 5, 7, 64]) assert.equal(streamed(text, size), whole, `pieces of ${size}`);
  });

  it('holds back only an unfinished sequence, not the text before it', () => {
    const s = new AnsiStripper();
    assert.equal(s.push(`ok ${ESC}[3`), 'ok ');
    assert.equal(s.push('1mred'), 'red');
    assert.equal(s.push('\r'), '');
    assert.equal(s.push('\nnext'), '\nnext');
  });

  it('puts a line redrawn in a later piece on a line of its own (what was shown stays)', () => {
    const s = new AnsiStripper();
    assert.equal(s.push('10%'), '10%');
    assert.equal(s.push('\r50%\r60%'), '\n60%');
    assert.equal(s.push('\r100%\n'), '\n100%\n');
    assert.equal(s.push('\rnew line'), 'new line'); // at a line start: nothing to keep apart
  });

  it('lets a lone escape that never finishes through as text', () => {
    const s = new AnsiStripper();
    const junk = `${ESC}]` + 'x'.repeat(5000);
    assert.equal(s.push(junk), 'x'.repeat(5000));
  });
});

describe('OutputTail', () => {
  /** A view mirroring the tail as a list of nodes, as the panel's <pre> does with text nodes. */
  function mirror(limit: number) {
    const tail = new OutputTail(limit);
    const nodes: string[] = [];
    return {
      tail,
      nodes,
      push(piece: string) {
        const change = tail.push(piece);
        nodes.push(piece);
        nodes.splice(0, change.drop);
        if (change.first !== undefined) nodes[0] = change.first;
      },
    };
  }

  it('keeps everything up to the limit', () => {
    const m = mirror(100);
    m.push('a'.repeat(60));
    m.push('b'.repeat(40));
    assert.equal(m.tail.text, 'a'.repeat(60) + 'b'.repeat(40));
    assert.equal(m.tail.cut, 0);
  });

  it('keeps the last part, counts what was cut, and the view mirrors it', () => {
    const m = mirror(1000);
    let all = '';
    for (let i = 0; i < 500; i++) {
      const line = `line ${i}\n`;
      all += line;
      m.push(line);
      assert.ok(m.tail.text.length <= 1000);
      assert.equal(m.nodes.join(''), m.tail.text);
      assert.equal(m.tail.cut + m.tail.text.length, all.length);
      assert.ok(all.endsWith(m.tail.text));
    }
    assert.ok(m.tail.text.endsWith('line 499\n'));
    assert.ok(m.tail.text.startsWith('line '), 'the cut falls at a line start');
    assert.ok(m.tail.text.length >= 800, 'cut down to about 90% of the limit, not more');
  });

  it('cuts inside one huge piece, keeping its end', () => {
    const m = mirror(1000);
    m.push('x'.repeat(10) + '\n');
    m.push('y'.repeat(5000));
    assert.equal(m.tail.text, 'y'.repeat(900));
    assert.equal(m.nodes.join(''), m.tail.text);
    assert.equal(m.tail.cut, 5011 - 900);
  });

  it('keeps about 200 KB by default', () => {
    assert.equal(OUTPUT_LIMIT, 200_000);
    const t = new OutputTail();
    const chunk = 'z'.repeat(63) + '\n';
    for (let i = 0; i < 10_000; i++) t.push(chunk); // 640 KB
    assert.ok(t.text.length <= OUTPUT_LIMIT && t.text.length > 170_000, String(t.text.length));
    assert.equal(t.cut + t.text.length, 640_000);
  });
});

describe('commandEnd', () => {
  it('reads the exit code or the stop from the result\'s last line', () => {
    assert.deepEqual(commandEnd('$ pytest -q\n3 passed\n[exit code 0]'),
      { label: 'exit code 0', detail: 'exit code 0', success: true });
    assert.deepEqual(commandEnd('$ false\n\n[exit code 1]\n'), { label: 'exit code 1', detail: 'exit code 1', success: false });
    assert.deepEqual(commandEnd('$ sleep 9\n[stopped: still running after 5 s (the time limit)]'),
      { label: 'stopped', detail: 'stopped: still running after 5 s (the time limit)', success: false });
  });

  it('finds nothing in other results (an error, a result cut for display)', () => {
    assert.equal(commandEnd('Error: the command is empty'), undefined);
    assert.equal(commandEnd('$ yes\ny\ny\n…'), undefined);
    assert.equal(commandEnd('[exit code 0] and more'), undefined);
  });
});

describe('sizeText', () => {
  it('says how much was cut', () => {
    assert.equal(sizeText(999), '999 characters');
    assert.equal(sizeText(200_000), '200 KB');
    assert.equal(sizeText(1_340_000), '1.3 MB');
  });
});
