/**
 * Counters as the engine names them (/proc/fs/netfs/stats, the FS-Cache block): one small
 * table per group, `name value` pairs, numbers right-aligned.
 */
import { counterGroups, type Counters } from '../counters.js';

export function CounterTables({ counters, label }: { counters: Counters; label: string }) {
  const groups = counterGroups(counters);
  if (groups.length === 0) return <p className="muted">No counters yet.</p>;
  return (
    <div className="counter-groups" aria-label={label}>
      {groups.map(([group, rows]) => (
        <table key={group} className="table compact counters">
          <caption>{group}</caption>
          <tbody>
            {rows.map(([name, v]) => (
              <tr key={name}>
                <th scope="row">{name}</th>
                <td className="num">{v.toLocaleString()}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ))}
    </div>
  );
}
