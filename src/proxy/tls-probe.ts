/**
 * Tells a TLS port from a crashed plain-HTTP one: when a fresh plain connection closes without a
 * byte, one TLS handshake attempt shows whether the port speaks TLS. Runs only on that failure path;
 * the answer is cached per server by the caller.
 */
import * as tls from 'node:tls';

export function probeTls(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (speaksTls: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(speaksTls);
    };
    // Verification is off on purpose: the question is only whether the port answers a ClientHello
    // with a ServerHello; a certificate error proves that as well as a completed handshake.
    const socket = tls.connect({ host, port, rejectUnauthorized: false, servername: undefined });
    socket.once('secureConnect', () => done(true));
    socket.once('error', (error: NodeJS.ErrnoException) => {
      const code = error.code ?? '';
      // A certificate problem means a real TLS server answered.
      done(
        code.includes('CERT') ||
          code.includes('SELF_SIGNED') ||
          code.startsWith('ERR_SSL_SSLV3_ALERT') ||
          code.startsWith('ERR_SSL_TLSV1_ALERT'),
      );
    });
    socket.once('close', () => done(false));
    const timer = setTimeout(() => done(false), timeoutMs);
    timer.unref();
  });
}
