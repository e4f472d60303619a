"""Group composition analyses: irreps (Chughtai et al.), cosets (Stander et al.), their
interventions and verdicts, progress measures, universality over seeds."""
