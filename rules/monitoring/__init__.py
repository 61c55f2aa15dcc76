"""Play 4 (monitor for diversity loss): every exposed model monitored, on an eval set nothing writes."""
