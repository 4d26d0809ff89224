import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/test-app.js';

describe('CORS', () => {
  let open: TestApp;
  let closed: TestApp;
  beforeAll(async () => {
    open = await createTestApp({ env: { TESSERA_CORS_ORIGINS: 'https://app.example.com' } });
    closed = await createTestApp();
  });
  afterAll(async () => {
    await open.close();
    await closed.close();
  });

  it('answers a preflight from an allowed origin with the headers a token client needs', async () => {
    const res = await request(open.app)
      .options('/cubejs-api/v1/load')
      .set('Origin', 'https://app.example.com')
      .set('Access-Control-Request-Method', 'GET')
      .set('Access-Control-Request-Headers', 'authorization');
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe('https://app.example.com');
    expect(res.headers['access-control-allow-headers']).toContain('Authorization');
  });

  it('does not allow other origins', async () => {
    const res = await request(open.app).get('/livez').set('Origin', 'https://evil.example.com');
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('sends no CORS headers unless origins are configured', async () => {
    const res = await request(closed.app).get('/livez').set('Origin', 'https://app.example.com');
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('refuses a malformed origin at start-up, naming the option', async () => {
    await expect(createTestApp({ env: { TESSERA_CORS_ORIGINS: 'app.example.com/path' } })).rejects.toThrow(/corsOrigins|TESSERA_CORS_ORIGINS/);
  });
});
