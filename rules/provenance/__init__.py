"""Play 1 (establish data provenance): every dataset tagged, tags that tell the truth, unknown data
kept out of training.
"""
