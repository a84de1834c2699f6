// The emulator's HTTPS: a throwaway certificate authority made at start, and
// a server certificate it signs for 127.0.0.1 and localhost. Clients trust the
// authority's certificate (NODE_EXTRA_CA_CERTS, SSL_CERT_FILE), never the
// machine's store, so nothing outlives the emulator.
//
// Made with @peculiar/x509 (a devDependency): node:crypto makes keys but not
// certificates; this library builds them on the platform's WebCrypto (no
// JavaScript RSA as in node-forge, no `openssl` binary to find), writes the
// extensions strict verifiers ask for (Python 3.13's VERIFY_X509_STRICT), and
// is what the `selfsigned` package itself is built on. Its dependency
// injection needs the Reflect metadata polyfill loaded first; server.ts loads
// this module only for --tls, so plain runs never do.
// eslint-disable-next-line import-x/no-unassigned-import -- a polyfill: loading it is the point
import 'reflect-metadata'
import * as x509 from '@peculiar/x509'
import {KeyObject, webcrypto} from 'node:crypto'

export type Certificates = {
  /** PEM: the authority clients are told to trust */
  ca: string;
  /** PEM: the server's certificate (127.0.0.1, localhost), signed by `ca` */
  cert: string;
  /** PEM (PKCS #8): the server's private key */
  key: string;
}

const KEY_ALGORITHM = {name: 'ECDSA', namedCurve: 'P-256'}
const SIGNING_ALGORITHM = {hash: 'SHA-256', name: 'ECDSA'}
const DAY_MS = 24 * 60 * 60 * 1000

export async function makeCertificates(): Promise<Certificates> {
  // an hour back allows for clocks a little behind; a week covers any emulator session
  const notBefore = new Date(Date.now() - (DAY_MS / 24))
  const notAfter = new Date(Date.now() + (7 * DAY_MS))
  const caKeys = await generateKeys()
  const serverKeys = await generateKeys()

  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      // eslint-disable-next-line no-bitwise -- key usages are a bit set
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
    keys: caKeys,
    name: 'CN=Pipecat Cloud emulator local CA',
    notAfter,
    notBefore,
    signingAlgorithm: SIGNING_ALGORITHM,
  })

  const cert = await x509.X509CertificateGenerator.create({
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([{type: 'ip', value: '127.0.0.1'}, {type: 'dns', value: 'localhost'}]),
      await x509.SubjectKeyIdentifierExtension.create(serverKeys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey),
    ],
    issuer: ca.subject,
    notAfter,
    notBefore,
    publicKey: serverKeys.publicKey,
    signingAlgorithm: SIGNING_ALGORITHM,
    signingKey: caKeys.privateKey,
    subject: 'CN=127.0.0.1',
  })

  return {
    ca: ca.toString('pem') + '\n',
    cert: cert.toString('pem') + '\n',
    key: KeyObject.from(serverKeys.privateKey).export({format: 'pem', type: 'pkcs8'}).toString(),
  }
}

async function generateKeys(): Promise<webcrypto.CryptoKeyPair> {
  return webcrypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify'])
}
