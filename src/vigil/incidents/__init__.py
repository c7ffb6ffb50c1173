"""Incidents: detections and high-priority behaviour grouped per user (or per attack source) and
campaign, ranked, with a story and a recommended action; evaluation against labels; outputs."""
