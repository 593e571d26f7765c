/**
 * exporter-toolkit's client_auth_type on a Node TLS server. OpenSSL does the asking and the
 * chain check (requestCert, rejectUnauthorized against client_ca); what Go's policies add
 * beyond that (a certificate required but not verified, verified only if given, allowed SANs)
 * is checked when the handshake completes, and the connection is closed before any request.
 */
import type { Server as HttpsServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { TlsSettings } from './web-config.js';
import type { LiveWebConfig } from './web-config-reload.js';

export interface ServerTlsOptions {
  readonly requestCert: boolean;
  readonly rejectUnauthorized: boolean;
}

export function serverTlsOptions(settings: TlsSettings): ServerTlsOptions {
  return {
    requestCert: settings.clientAuth !== 'NoClientCert',
    rejectUnauthorized: settings.clientAuth === 'RequireAndVerifyClientCert',
  };
}

/** SAN values of a certificate's subjectaltname ("DNS:a, IP Address:1.2.3.4, URI:..."). */
export function subjectAltNames(text: string | undefined): string[] {
  if (text === undefined) return [];
  const names: string[] = [];
  for (const match of text.matchAll(/(?:DNS|IP Address|email|URI):("(?:[^"\\]|\\.)*"|[^,]*)/g)) {
    const value = match[1] as string;
    names.push(value.startsWith('"') ? (JSON.parse(value) as string) : value.trim());
  }
  return names;
}

/** Why this connection's client certificate fails the policy, or undefined when it passes. */
export function clientCertificateProblem(
  socket: TLSSocket,
  settings: TlsSettings,
): string | undefined {
  const certificate = socket.getPeerCertificate();
  const presented = certificate !== null && Object.keys(certificate).length > 0;
  switch (settings.clientAuth) {
    case 'RequireAnyClientCert':
      if (!presented) return 'no client certificate';
      break;
    case 'VerifyClientCertIfGiven':
      if (presented && !socket.authorized) {
        return `client certificate not verified: ${String(socket.authorizationError)}`;
      }
      break;
    default:
      break;
  }
  const allowed = settings.clientAllowedSans;
  if (allowed !== undefined) {
    const names = presented ? subjectAltNames(certificate.subjectaltname) : [];
    if (!names.some((name) => allowed.includes(name))) {
      return 'client certificate has none of client_allowed_sans';
    }
  }
  return undefined;
}

/** Applies settings to a running server: new connections get the new context and policy. */
export function applyTls(server: HttpsServer, settings: TlsSettings): void {
  server.setSecureContext(settings.context);
  // Read by tls.Server for every new connection; setSecureContext leaves them alone.
  Object.assign(server, serverTlsOptions(settings));
}

/** Closes each connection whose client certificate fails the current policy. */
export function enforceClientAuth(
  server: HttpsServer,
  current: () => TlsSettings | undefined,
  onReject: (problem: string, socket: TLSSocket) => void,
): void {
  server.prependListener('secureConnection', (socket: TLSSocket) => {
    const settings = current();
    if (settings === undefined) return;
    const problem = clientCertificateProblem(socket, settings);
    if (problem === undefined) return;
    onReject(problem, socket);
    socket.destroy();
  });
}

/** Serves the web config's TLS on `server` and follows its reloads. */
export function attachTls(
  server: HttpsServer,
  web: LiveWebConfig,
  onReject: (problem: string, socket: TLSSocket) => void,
): void {
  enforceClientAuth(server, () => web.current.tls, onReject);
  web.onChange((config) => {
    if (config.tls !== undefined) applyTls(server, config.tls);
  });
}
