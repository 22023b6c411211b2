/**
 * The nginx configs the bench runs: ours as the generator writes it (whole, or with a part taken
 * out of its tree to price that part), a bare proxy as the reference hop, and a plain config like
 * the course's. All built as trees and rendered by the generator's one serializer.
 */
import { block, directive, generate, render, type Node } from '@three-tier/nginx';
import { nativeTarget } from '@three-tier/runner';

/** Where an nginx of the bench listens, where its upstream is, and its run directory. */
export interface NginxPlace {
  readonly port: number;
  readonly upstreamPort: number;
  readonly prefix: string;
}

/** Parts of our config the bench can take out, one price each. */
export type OurPart = 'accessLog' | 'responseHeaders';

/** Every directive `keep` refuses, at any depth. */
function prune(nodes: readonly Node[], keep: (node: Node) => boolean): Node[] {
  return nodes.filter(keep).map((node) => (node.kind === 'block' ? { ...node, children: prune(node.children, keep) } : node));
}

const isDirective = (node: Node, name: string): boolean => node.kind === 'directive' && node.name === name;

/** What taking a part out means in the tree. */
const without: Readonly<Record<OurPart, (node: Node) => boolean>> = {
  // The http-level access_log goes; the quiet locations' `access_log off` may stay.
  accessLog: (node) => !(isDirective(node, 'access_log') && node.kind === 'directive' && node.args[0] !== 'off'),
  // add_header and the proxy_hide_header of the api's copies: the answer's headers as the api set them.
  responseHeaders: (node) => !isDirective(node, 'add_header') && !isDirective(node, 'proxy_hide_header'),
};

/**
 * Our generated native config in front of `upstreamPort`, its access log to `accessLogPath` (a
 * pipe the bench drains), with `off` parts taken out.
 */
export function ourConfig(place: NginxPlace, accessLogPath: string, off: readonly OurPart[] = []): string {
  const target = nativeTarget({ listenHost: '127.0.0.1', edgePort: place.port, apiPort: place.upstreamPort, prefix: place.prefix, accessLogPath });
  return render(off.reduce((nodes, part) => prune(nodes, without[part]), generate(target)));
}

/** The main context, events and the temp paths every bench nginx shares. */
function skeleton(place: NginxPlace, http: readonly Node[]): Node[] {
  return [
    directive('worker_processes', 'auto'),
    directive('pid', `${place.prefix}/nginx.pid`),
    directive('daemon', 'off'),
    directive('error_log', 'stderr', 'warn'),
    block('events', [], [directive('worker_connections', 1024)]),
    block('http', [], [
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((kind) => directive(`${kind}_temp_path`, `${place.prefix}/tmp/${kind}`)),
      ...http,
    ]),
  ];
}

/**
 * The bare hop: a keep-alive upstream and HTTP/1.1 towards it, no log, nothing added. What any
 * nginx in front of a keep-alive server costs; the reference our hop is held to.
 */
export function bareConfig(place: NginxPlace): string {
  return render(
    skeleton(place, [
      directive('access_log', 'off'),
      block('upstream', ['upstream'], [directive('server', `127.0.0.1:${place.upstreamPort}`), directive('keepalive', 32)]),
      block('server', [], [
        directive('listen', `127.0.0.1:${place.port}`),
        block('location', ['/'], [
          directive('proxy_pass', 'http://upstream'),
          directive('proxy_http_version', '1.1'),
          directive('proxy_set_header', 'Connection', ''),
        ]),
      ]),
    ]),
  );
}

/**
 * A config like the course's: proxy_pass and nothing else, so nginx's defaults: HTTP/1.0 and a
 * new connection to the app per request, and the access log in the combined format, a write per
 * request, to a file.
 */
export function courseConfig(place: NginxPlace): string {
  return render(
    skeleton(place, [
      directive('access_log', `${place.prefix}/access.log`),
      block('server', [], [
        directive('listen', `127.0.0.1:${place.port}`),
        block('location', ['/'], [directive('proxy_pass', `http://127.0.0.1:${place.upstreamPort}`)]),
      ]),
    ]),
  );
}
