/** Who is answering: shown by GET /, /redis, /html and /load. */
export interface Instance {
  readonly name: string;
  readonly version: string;
  /** The container or pod name in a deployment. */
  readonly hostname: string;
}
