// A minimal Generic Connector peer over OpenWire/JMS, for the interop test only.
// Usage: java GcPeer <broker-url> <command-queue> <event-topic> <event-text>
// Prints "LISTENING", then "RECEIVED <class>|<JMSType>|<text>" for one command,
// then publishes <event-text> as a TextMessage on the topic and prints "SENT".
import javax.jms.*;
import org.apache.activemq.ActiveMQConnectionFactory;

public class GcPeer {
    public static void main(String[] args) throws Exception {
        ConnectionFactory factory = new ActiveMQConnectionFactory(args[0]);
        Connection connection = factory.createConnection();
        connection.start();
        Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
        MessageConsumer consumer = session.createConsumer(session.createQueue(args[1]));
        MessageProducer producer = session.createProducer(session.createTopic(args[2]));
        producer.setDeliveryMode(DeliveryMode.NON_PERSISTENT);
        System.out.println("LISTENING");
        System.out.flush();
        Message message = consumer.receive(30000);
        if (message == null) {
            System.out.println("TIMEOUT");
            connection.close();
            System.exit(1);
        }
        String text = message instanceof TextMessage ? ((TextMessage) message).getText() : "";
        System.out.println("RECEIVED " + message.getClass().getSimpleName() + "|"
                + message.getJMSType() + "|" + text);
        producer.send(session.createTextMessage(args[3]));
        System.out.println("SENT");
        System.out.flush();
        connection.close();
    }
}
