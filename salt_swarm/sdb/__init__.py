"""sdb drivers (Salt loads this folder through the ``salt.loader`` entry point)."""
