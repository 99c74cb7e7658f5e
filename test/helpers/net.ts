// Loopback ports for tests and benchmarks that must tell a child process where to listen.
import net from 'node:net';

/** A TCP port on 127.0.0.1 that was free a moment ago (the OS picks it, then it is released). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}
