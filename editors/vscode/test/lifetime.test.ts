/** Unit tests: listeners registered for a webview view are disposed with the view. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { disposeWith } from '../src/lifetime';

/** A view that can be disposed, counting its onDidDispose subscriptions as VS Code's would. */
function fakeView() {
  const listeners = new Set<() => void>();
  return {
    listeners,
    onDidDispose(listener: () => void) {
      listeners.add(listener);
      return { dispose: () => listeners.delete(listener) };
    },
    dispose() {
      for (const l of [...listeners]) l();
    },
  };
}

function counter() {
  const c = { disposed: 0, dispose: () => void c.disposed++ };
  return c;
}

describe('disposeWith', () => {
  it('disposes the listeners when the view is disposed, after onEnd', () => {
    const view = fakeView();
    const a = counter();
    const b = counter();
    const order: string[] = [];
    disposeWith(view, [a, b], () => order.push(`onEnd with ${a.disposed} disposed`));
    assert.equal(a.disposed, 0);
    view.dispose();
    assert.deepEqual([a.disposed, b.disposed], [1, 1]);
    assert.deepEqual(order, ['onEnd with 0 disposed']);
    assert.equal(view.listeners.size, 0, 'its own onDidDispose subscription is gone too');
  });

  it('keeps each view\'s listeners apart: a view resolved again does not pile them up', () => {
    const first = fakeView();
    const second = fakeView();
    const one = counter();
    const two = counter();
    disposeWith(first, [one]);
    disposeWith(second, [two]);
    first.dispose();
    assert.deepEqual([one.disposed, two.disposed], [1, 0]);
    second.dispose();
    assert.deepEqual([one.disposed, two.disposed], [1, 1]);
  });

  it('can be disposed before the view (extension deactivated), once', () => {
    const view = fakeView();
    const a = counter();
    let ended = 0;
    const scope = disposeWith(view, [a], () => ended++);
    scope.dispose();
    scope.dispose();
    view.dispose();
    assert.equal(a.disposed, 1);
    assert.equal(ended, 0, 'onEnd is for the view ending, not for an early dispose');
    assert.equal(view.listeners.size, 0);
  });
});
