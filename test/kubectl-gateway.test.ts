/** The kubectl gateway's reading of kubectl's own error text. */
import { describe, expect, it } from 'vitest';
import { isConnectionError } from '../src/gateways/kubectl.js';

describe('isConnectionError', () => {
  it.each([
    'The connection to the server 127.0.0.1:43747 was refused - did you specify the right host or port?',
    'Unable to connect to the server: dial tcp 10.0.0.1:443: i/o timeout',
    'Get "https://x.eks.amazonaws.com/version": dial tcp: lookup x.eks.amazonaws.com: no such host',
    'error: Get "http://127.0.0.1:1/api": read tcp 127.0.0.1:2->127.0.0.1:1: read: connection reset by peer',
    'Unable to connect to the server: net/http: TLS handshake timeout',
  ])('retries after %j', (stderr) => {
    expect(isConnectionError(stderr)).toBe(true);
  });

  it.each([
    'Error from server (NotFound): daemonsets.apps "aws-node" not found',
    'Error from server (Forbidden): daemonsets.apps "aws-node" is forbidden: User "x" cannot get resource',
    'error: the server doesn\'t have a resource type "eniconfigs"',
  ])('does not retry %j', (stderr) => {
    expect(isConnectionError(stderr)).toBe(false);
  });
});
