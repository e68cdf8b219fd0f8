"""Personal data protection (Law 133/2011): consent records, the citizen's data download, retention."""
