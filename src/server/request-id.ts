/**
 * Every response carries `x-request-id`: the client's own when it is short
 * and plain, else a fresh uuid (so a hostile value never reaches logs or headers).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { NextFunction, Request, Response } from 'express';

const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function chooseRequestId(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value !== undefined && SAFE_REQUEST_ID.test(value) ? value : randomUUID();
}

export function requestIdMiddleware(req: Request, res: Response, next: NextFunction): void {
  const id = chooseRequestId(req.headers['x-request-id']);
  req.id = id;
  res.setHeader('x-request-id', id);
  next();
}

/** The request id as a string (set by `requestIdMiddleware`). */
export function requestIdOf(req: IncomingMessage): string {
  return typeof req.id === 'string' ? req.id : String(req.id ?? '');
}
