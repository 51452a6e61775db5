//! One server node: listener, connections, sessions, request pipeline, admin.
