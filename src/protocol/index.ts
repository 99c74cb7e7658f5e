// The central server's HTTP API, described once: names, request and reply types, JSON schemas,
// and the one client. Server routes, agent, publisher and CLI import it from here.
export * from './names.js';
export * from './errors.js';
export * from './groups.js';
export * from './torrents.js';
export * from './reports.js';
export * from './firmware.js';
export * from './client.js';
export * from './kdm.js';
