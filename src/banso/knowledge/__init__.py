"""Knowledge base (M25): principles of conduct, playbook write-ups and proposal templates."""
