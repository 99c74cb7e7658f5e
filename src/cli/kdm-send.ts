// One KDM upload for `cineswarm kdm send`, through the protocol's one server client.
import { ServerClient, type KdmPosted } from '../protocol/index.js';

export interface SendKdmOptions { server: string; group: string; password: string; peer?: string; xml: Buffer }

export function sendKdm(o: SendKdmOptions): Promise<KdmPosted> {
  return new ServerClient(o.server).postKdm({ id: o.group, password: o.password }, o.xml, o.peer);
}
