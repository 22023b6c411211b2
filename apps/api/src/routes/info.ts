import type { ServiceInfo } from '@three-tier/shared';
import type { RequestHandler } from 'express';
import { sendJson } from '../http/send-json.js';
import type { Instance } from '../instance.js';

/** GET / : who is answering, and the request as it arrived (what the edge forwarded). */
export function infoHandler(instance: Instance): RequestHandler {
  return (req, res) => {
    const body: ServiceInfo = {
      name: instance.name,
      version: instance.version,
      hostname: instance.hostname,
      uptimeSeconds: Math.round(process.uptime()),
      node: process.version,
      request: { id: req.id, ip: req.ip ?? '', protocol: req.protocol },
    };
    sendJson(res, body);
  };
}
