// One KDM upload for `cineswarm kdm send`, through the protocol's KDM client.
import { KdmClient, type KdmPosted } from '../protocol/kdm.js';

export interface SendKdmOptions { server: string; group: string; password: string; peer?: string; xml: Buffer }

export function sendKdm(o: SendKdmOptions): Promise<KdmPosted> {
  return new KdmClient({ server: o.server, group: o.group, password: o.password }).postKdm(o.xml, o.peer);
}
