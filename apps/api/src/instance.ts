/** Who is answering: shown by GET /, /redis, /html, /load and /instance. */
export interface Instance {
  readonly name: string;
  readonly version: string;
  /** The container or pod name in a deployment; INSTANCE_ID when set (npm start sets one each). */
  readonly hostname: string;
}
