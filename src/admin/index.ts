export { DASHBOARD_HTML } from './dashboard.js';
export { type AdminReply, type AdminRoute, AdminServer } from './server.js';
