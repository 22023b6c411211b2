import { createSocket, type Socket } from 'node:dgram';

/** `<190>Nov 26 19:22:25 nginx: message` without its priority, timestamp and tag. */
const header = /^<\d{1,3}>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d (?:[^\s:]+: )?/;

/**
 * A syslog receiver on a loopback UDP port: how the native nginx hands its access log to the
 * runner (see `NativeParams.accessLogPort`).
 */
export class SyslogReceiver {
  private constructor(
    private readonly socket: Socket,
    readonly port: number,
  ) {}

  static async listen(onLine: (line: string) => void): Promise<SyslogReceiver> {
    const socket = createSocket('udp4');
    socket.on('message', (message) => {
      onLine(message.toString('utf8').replace(header, '').trimEnd());
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, '127.0.0.1', () => {
        resolve();
      });
    });
    return new SyslogReceiver(socket, socket.address().port);
  }

  close(): void {
    this.socket.close();
  }
}
