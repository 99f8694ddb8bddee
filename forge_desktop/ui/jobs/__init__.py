"""The Qt jobs views: the queue's list window, one job's window, a batch's view, their
result tables, charts and texts, and the job-file upload (all read the hub's job API)."""
