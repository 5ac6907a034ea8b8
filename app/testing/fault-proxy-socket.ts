// Cutting a client connection for the fault proxy: `reset` sends an RST (SO_LINGER 0 via
// socket.resetAndDestroy(); whatever the kernel still holds unsent is lost with it), `close`
// sends a clean FIN after the bytes written so far and destroys the socket once the client
// closes too, or after a grace period.
import type { Socket } from 'node:net';

export type CutHow = 'reset' | 'close';

const CLOSE_GRACE_MS = 5_000;

export function cutConnection(socket: Socket, how: CutHow): void {
  if (socket.destroyed) return;
  if (how === 'reset') {
    socket.resetAndDestroy();
    return;
  }
  socket.end();
  const timer = setTimeout(() => socket.destroy(), CLOSE_GRACE_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}
