export { type AdminRoute, AdminServer } from './server.js';
