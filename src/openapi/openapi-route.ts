/** `GET /openapi.json`: the OpenAPI 3.1 document (public: it describes the API, not the model). */
import type { Request, Response } from 'express';
import { openApiDocument } from './openapi-document.js';

export function openApiRoute() {
  return (_req: Request, res: Response): void => {
    res.setHeader('cache-control', 'public, max-age=300');
    res.json(openApiDocument());
  };
}
