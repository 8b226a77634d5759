"""Operations: what runs the warehouse day to day."""
