/**
 * account.get | account.test | account.add | account.remove
 *
 *   test: check the URL (scheme; plain http off loopback is INSECURE) -> list the root (AUTH,
 *         UNREACHABLE) -> probe capabilities; nothing is written
 *   add:  the same, then the state folder is written as `netfs-sync init` writes it (secret
 *         0600 in a 0700 folder) and the engine starts; one account per state folder
 */
import type { Handlers } from '../api/derive.js';
import { NetfsError } from '../api/errors.js';
import { probeRemote } from '../sync/remote-of.js';
import { checkRemoteUrl } from '../sync/remote-of.js';
import type { ServiceContext } from './service-context.js';

type AccountHandlers = Pick<Handlers, 'account.get' | 'account.test' | 'account.add' | 'account.remove'>;

export async function testAccount(spec: { remote: string; user: string | null; password: string | null }): ReturnType<typeof probeRemote> {
  checkRemoteUrl(spec.remote);
  return probeRemote({ remote: spec.remote, user: spec.user, password: spec.password, ca: null });
}

export function accountHandlers(ctx: ServiceContext): AccountHandlers {
  return {
    'account.get': async () => ctx.account(),
    'account.test': async (a) => ({ capabilities: await testAccount(a) }),
    'account.add': async (a) => {
      if (!a.local.startsWith('/')) throw new NetfsError('INVALID_ARGUMENT', `local: the sync folder must be an absolute path, not ${JSON.stringify(a.local)}`);
      return ctx.configure(a);
    },
    'account.remove': async () => {
      await ctx.unconfigure();
      return { done: true as const };
    },
  };
}
