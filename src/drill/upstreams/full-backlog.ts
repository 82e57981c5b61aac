import { type ChildProcessByStdio, spawn } from 'node:child_process';
import * as net from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { type ListenAddress, UpstreamStartError } from './lifecycle.js';

/**
 * A listener whose accept queue is full, so a new connect is never answered.
 *
 * Linux drops a SYN aimed at a listener whose accept queue is full (tcp_conn_request: "if
 * (sk_acceptq_is_full(sk)) goto drop"), so the client keeps retransmitting SYN and its connect hangs
 * until its own timeout: the same thing a firewall that drops packets looks like. Node accepts every
 * connection by itself, so the listener is a small python3 child that calls listen(0) and never
 * accept(); the parent then connects until one connect does not complete. With backlog 0 one
 * established connection fills the queue (full means more than backlog waiting).
 *
 * On a unix socket a full queue makes a non-blocking connect fail at once with EAGAIN instead.
 *
 * The child exits when its stdin reaches EOF: on close(), and also when this process dies however it
 * dies, because the kernel closes the pipe.
 */
const LISTENER_SCRIPT = `
import socket, sys
if len(sys.argv) > 1:
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(sys.argv[1])
    port = 0
else:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
listener.listen(0)
print(port, flush=True)
sys.stdin.read()
`;

/** How long a probe connect may take before the queue is taken as full (local connects take < 1 ms). */
const PROBE_TIMEOUT_MS = 300;
const MAX_FILLERS = 16;

export interface FullBacklog {
  readonly address: ListenAddress;
  close(): Promise<void>;
}

type ListenerProcess = ChildProcessByStdio<Writable, Readable, Readable>;

export async function startFullBacklog(unixPath: string | undefined): Promise<FullBacklog> {
  const child = spawn('python3', unixPath === undefined ? ['-c', LISTENER_SCRIPT] : ['-c', LISTENER_SCRIPT, unixPath], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const fillers: net.Socket[] = [];
  const close = async (): Promise<void> => {
    for (const socket of fillers) socket.destroy();
    await stopChild(child);
  };
  try {
    const port = await readPort(child);
    const address: ListenAddress =
      unixPath === undefined
        ? { host: '127.0.0.1', port, socketPath: undefined }
        : { host: '', port: 0, socketPath: unixPath };
    await fillQueue(address, fillers);
    return { address, close };
  } catch (error) {
    await close();
    throw error;
  }
}

function readPort(child: ListenerProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const onData = (chunk: Buffer): void => {
      stdout += chunk.toString();
      const newline = stdout.indexOf('\n');
      if (newline === -1) return;
      child.stdout.off('data', onData);
      child.off('exit', onExit);
      child.off('error', onError);
      resolve(Number(stdout.slice(0, newline)));
    };
    const onExit = (code: number | null): void =>
      reject(new UpstreamStartError(`full_backlog listener exited with ${code}: ${stderr.trim()}`));
    const onError = (error: Error): void =>
      reject(new UpstreamStartError(`full_backlog needs python3: ${error.message}`, { cause: error }));
    child.stdout.on('data', onData);
    child.once('exit', onExit);
    child.once('error', onError);
  });
}

type ProbeResult = 'connected' | 'hung' | 'refused_full';

/** Connects until a connect does not complete (TCP) or fails with EAGAIN (unix socket). */
async function fillQueue(address: ListenAddress, fillers: net.Socket[]): Promise<void> {
  for (let attempt = 0; attempt < MAX_FILLERS; attempt++) {
    const socket =
      address.socketPath === undefined
        ? net.connect(address.port, address.host)
        : net.connect({ path: address.socketPath });
    const result = await probe(socket);
    if (result === 'connected') {
      socket.on('error', () => socket.destroy());
      fillers.push(socket);
      continue;
    }
    // The probe itself is dropped: its SYN would be answered the moment a slot frees up.
    socket.destroy();
    return;
  }
  throw new UpstreamStartError(`full_backlog: accept queue still open after ${MAX_FILLERS} connections`);
}

function probe(socket: net.Socket): Promise<ProbeResult> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish('hung'), PROBE_TIMEOUT_MS);
    const finish = (result: ProbeResult): void => {
      clearTimeout(timer);
      socket.off('connect', onConnect);
      socket.off('error', onError);
      resolve(result);
    };
    const onConnect = (): void => finish('connected');
    const onError = (error: NodeJS.ErrnoException): void => {
      if (error.code === 'EAGAIN') {
        finish('refused_full');
        return;
      }
      clearTimeout(timer);
      reject(
        new UpstreamStartError(`full_backlog: filling the accept queue failed: ${error.message}`, { cause: error }),
      );
    };
    socket.once('connect', onConnect);
    socket.once('error', onError);
  });
}

async function stopChild(child: ListenerProcess): Promise<void> {
  // No pid: spawn failed and there is nothing to stop.
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.stdin.end();
  const kill = setTimeout(() => child.kill('SIGKILL'), 2000);
  await exited;
  clearTimeout(kill);
}
