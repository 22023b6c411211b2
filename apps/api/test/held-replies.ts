import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP relay in front of a real Redis whose replies can be held back: Redis runs every command as
 * it arrives, and the api hears nothing until they are released. It stands for the wire (or a
 * Redis stalled on its fsync after running the command), not for Redis. Commands can be held
 * too: then Redis runs them only once released, as a Redis frozen for that long would.
 */
export class HeldReplies {
  private holding = false;
  private readonly held: { to: Socket; chunk: Buffer; at: number }[] = [];
  private holdingCommands = false;
  private readonly heldCommands: { to: Socket; chunk: Buffer; at: number }[] = [];
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(redisPort: number): Promise<HeldReplies> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('the relay has no port');
    const relay = new HeldReplies(server, address.port);
    server.on('connection', (client) => relay.pair(client, redisPort));
    return relay;
  }

  /** The url to give the api. */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** From now on, Redis's replies wait here. */
  hold(): void {
    this.holding = true;
  }

  /** When the first held reply arrived here (performance.now()), once one has. */
  get firstHeldReplyAt(): number | undefined {
    return this.held[0]?.at;
  }

  /** Sends what was held, to whoever is still connected, and stops holding. */
  release(): void {
    this.holding = false;
    for (const { to, chunk } of this.held.splice(0)) if (!to.destroyed) to.write(chunk);
  }

  /** From now on, what the api sends waits here: Redis runs none of it until released. */
  holdCommands(): void {
    this.holdingCommands = true;
  }

  /** When the first held command arrived here (performance.now()), once one has. */
  get firstHeldCommandAt(): number | undefined {
    return this.heldCommands[0]?.at;
  }

  /** Passes what was held on to Redis, in order, and stops holding commands. */
  releaseCommands(): void {
    this.holdingCommands = false;
    for (const { to, chunk } of this.heldCommands.splice(0)) if (!to.destroyed) to.write(chunk);
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private pair(client: Socket, redisPort: number): void {
    const redis = connect({ host: '127.0.0.1', port: redisPort });
    for (const socket of [client, redis]) {
      this.sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        this.sockets.delete(socket);
        client.destroy();
        redis.destroy();
      });
    }
    client.on('data', (chunk: Buffer) => {
      if (this.holdingCommands) this.heldCommands.push({ to: redis, chunk, at: performance.now() });
      else redis.write(chunk);
    });
    redis.on('data', (chunk: Buffer) => {
      if (this.holding) this.held.push({ to: client, chunk, at: performance.now() });
      else client.write(chunk);
    });
  }
}
