/**
 * The Cube API when the model is compiled per security context (it reads COMPILE_CONTEXT):
 * authenticates the caller to find its compiled model, then hands the request to that
 * model's own router (built once per compiled model, with the model's own policies and
 * /meta). The inner router authenticates again, so every check it makes still applies.
 */
import type { RequestHandler } from 'express';
import type { Model, SecurityContext } from '../schema/model.js';
import type { AppDeps } from './app-deps.js';

export function perContextRouter(
  deps: Pick<AppDeps, 'authenticate'>,
  modelFor: (securityContext: SecurityContext) => Promise<Model>,
  routerFor: (model: Model) => RequestHandler,
): RequestHandler {
  // Weak: a model the provider's LRU dropped takes its router with it.
  const routers = new WeakMap<Model, RequestHandler>();
  return (req, res, next) => {
    deps
      .authenticate({ headers: req.headers, ip: req.ip ?? req.socket.remoteAddress ?? '', raw: req })
      .then(async (auth) => {
        const model = await modelFor(auth.securityContext);
        let router = routers.get(model);
        if (!router) {
          router = routerFor(model);
          routers.set(model, router);
        }
        router(req, res, next);
      })
      .catch(next);
  };
}
