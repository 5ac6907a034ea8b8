// Synchronous clean-up run when the test process exits (normally or by process.exit): kill the
// servers it started, delete their temp folders. Newest first, so servers die before their
// folders go. (A SIGKILLed test process runs nothing: see server-process.ts for that case.)
const tasks = new Map<number, () => void>();
let nextId = 0;
let installed = false;

function runAll(): void {
  const ids = [...tasks.keys()].sort((a, b) => b - a);
  for (const id of ids) {
    const task = tasks.get(id);
    tasks.delete(id);
    try {
      task?.();
    } catch {
      // Best effort: the process is exiting.
    }
  }
}

/** Registers `task` (synchronous) to run at process exit; returns a function that unregisters it. */
export function onProcessExit(task: () => void): () => void {
  if (!installed) {
    installed = true;
    process.on('exit', runAll);
  }
  const id = nextId++;
  tasks.set(id, task);
  return () => {
    tasks.delete(id);
  };
}
