/**
 * The page's one AppConnection, handed to every view through React context.
 */
import { createContext, useContext } from 'react';
import type { AppConnection } from '../client/connect.js';

export const ConnectionContext = createContext<AppConnection | null>(null);

export function useConnection(): AppConnection {
  const c = useContext(ConnectionContext);
  if (c === null) throw new Error('useConnection outside ConnectionContext');
  return c;
}
