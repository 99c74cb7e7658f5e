// Waiting for a torrent of a session to reach a state: driven by libtorrent's state alerts, with a
// slow poll for an alert that came before the wait began.
import type { EngineAlert, Session, Torrent } from '../engine/index.js';

/** Resolves when libtorrent has finished checking the torrent (a full check, or its resume data). */
export function waitChecked(session: Session, t: Torrent): Promise<void> {
  return waitState(session, t, (s) => s !== 'checking_files' && s !== 'checking_resume_data');
}

export function waitSeeding(session: Session, t: Torrent): Promise<void> {
  return waitState(session, t, (s) => s === 'seeding' || s === 'finished');
}

function waitState(session: Session, t: Torrent, ok: (state: string) => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = (): boolean => {
      let state: string;
      try {
        state = t.status().state;
      } catch (err) {
        done();
        reject(err as Error);
        return true;
      }
      if (!ok(state)) return false;
      done();
      resolve();
      return true;
    };
    const onAlert = (a: EngineAlert) => {
      if (a.infoHash === t.infoHash) check();
    };
    // The state-changed alert drives it; the slow poll covers an alert that came before we listened.
    const timer = setInterval(check, 1000);
    const done = () => {
      clearInterval(timer);
      session.off('state-changed', onAlert);
      session.off('torrent-checked', onAlert);
    };
    session.on('state-changed', onAlert);
    session.on('torrent-checked', onAlert);
    check();
  });
}
