/**
 * Listeners tied to the lifetime of what they listen to (a webview view), so they go with it rather
 * than piling up until the extension is deactivated.
 *
 * No `vscode` import: the unit tests run this under plain Node.
 */

export interface DisposableLike {
  dispose(): unknown;
}

/** Anything that says when it ends, such as a `vscode.WebviewView`. */
export interface Ending {
  onDidDispose(listener: () => void): DisposableLike;
}

/**
 * Disposes `disposables` when `owner` ends, after calling `onEnd`. The result disposes them
 * earlier (when the extension is deactivated while the view lives); disposing twice does nothing.
 */
export function disposeWith(owner: Ending, disposables: DisposableLike[], onEnd?: () => void): DisposableLike {
  let done = false;
  const end = (): void => {
    if (done) return;
    done = true;
    subscription.dispose();
    for (const d of disposables.splice(0)) d.dispose();
  };
  const subscription = owner.onDidDispose(() => {
    onEnd?.();
    end();
  });
  return { dispose: end };
}
