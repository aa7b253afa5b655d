"""Reading other tools' files, writing model files, and safe (atomic) writes."""
