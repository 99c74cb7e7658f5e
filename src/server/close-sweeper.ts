// Lets a closing server end without waiting for connections that will never finish a request:
// http.Server.close() ends only the connections idle at that moment, so one that goes idle just
// after (a long poll answered at close) or one that connected and never sent a byte (a client
// stopped mid-connect) would hold close() for the keep-alive or headers timeout (60-72 s).
import type { Server } from 'node:http';
import type { Socket } from 'node:net';

export class CloseSweeper {
  private readonly sockets = new Set<Socket>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly server: Server) {
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
  }

  /** From now until stop(), every half second: idle connections and silent ones are ended. */
  start(): void {
    const sweep = () => {
      this.server.closeIdleConnections();
      for (const s of this.sockets) if (s.bytesRead === 0) s.destroy();
    };
    this.timer = setInterval(sweep, 500);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
