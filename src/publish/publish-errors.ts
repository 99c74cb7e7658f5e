// How the publisher fails, in words a distributor can act on: the server's refusals mapped to
// one-line reasons (PublishError.code is stable for scripts and tests).
import { ApiError, type GroupAuth } from '../protocol/index.js';

export type PublishErrorCode = 'BROKEN_DCP' | 'GROUP_TAKEN' | 'NAME_TAKEN' | 'UNAUTHORIZED' | 'NO_SUCH_GROUP' | 'UNREACHABLE' | 'REFUSED';

export class PublishError extends Error {
  constructor(
    readonly code: PublishErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'PublishError';
  }
}

export function mapServerError(err: unknown, g: GroupAuth, name: string): never {
  if (!(err instanceof ApiError)) throw err;
  switch (err.code) {
    case 'UNAUTHORIZED':
      throw new PublishError(
        'UNAUTHORIZED',
        err.status === 403
          ? `that is the member password of group ${g.id}; publishing needs the owner password`
          : `the server refused the owner password for group ${g.id}, or there is no such group (add --create to create it)`,
      );
    case 'NOT_FOUND':
      throw new PublishError('NO_SUCH_GROUP', `group ${g.id} does not exist on the server; add --create to create it`);
    case 'CONFLICT':
      throw new PublishError('NAME_TAKEN', `a DCP named ${name} is already published in group ${g.id}; it was not replaced (to seed it again from the same files, use cineswarm seed)`);
    case 'UNREACHABLE':
      throw new PublishError('UNREACHABLE', err.message);
    default:
      throw new PublishError('REFUSED', err.message);
  }
}

export function mapCreateError(err: unknown, group: string, name: string): Error {
  if (err instanceof ApiError && err.code === 'CONFLICT') {
    return new PublishError('GROUP_TAKEN', `group id ${group} is already taken; choose another id or drop --create if it is yours`);
  }
  if (err instanceof ApiError && err.code === 'UNAUTHORIZED') {
    return new PublishError('UNAUTHORIZED', `the server refused to create group ${group}: it needs its admin token (--admin-token-file)`);
  }
  if (err instanceof ApiError && err.code === 'BAD_REQUEST') return new PublishError('REFUSED', err.message);
  try {
    mapServerError(err, { id: group, password: '' }, name);
  } catch (e) {
    return e as Error;
  }
}
