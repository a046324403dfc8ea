"""Optional glue between botanu and other libraries; each module imports its library lazily."""
