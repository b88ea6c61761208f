import { Modal, Text } from "@mantine/core";
import { SignInForm } from "../pages/SignIn";

/** Over the page the user was on, which stays mounted with whatever was typed into it. */
export default function SessionEnded() {
  return (
    <Modal
      opened
      onClose={() => undefined}
      withCloseButton={false}
      closeOnClickOutside={false}
      closeOnEscape={false}
      title="Your session has ended"
      zIndex={1000}
    >
      <Text size="sm" mb="md">
        Sign in again to go on. What you typed on the page is kept.
      </Text>
      <SignInForm onSignedIn={() => undefined} />
    </Modal>
  );
}
