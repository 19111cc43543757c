// One TCP connection, as the MQTT client sees it. The SIM800 driver implements it over the
// modem's CIP sockets; the client never learns which modem is underneath.

export interface Socket {
  /** Opens the connection; tls asks the transport for TLS (what kind is the transport's business). */
  open(host: string, port: number, tls: boolean, cb: (err: string | null) => void): void;
  /** Sends bytes (a binary string), in as many pieces as the transport needs. */
  send(data: string, cb: (err: string | null) => void): void;
  close(cb: () => void): void;
  /** Bytes that arrived (a binary string). */
  onData: (data: string) => void;
  /** The connection ended without close() being asked for. */
  onClose: (why: string) => void;
}
